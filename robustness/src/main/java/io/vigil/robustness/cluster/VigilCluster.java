package io.vigil.robustness.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Vigil cluster: each member is {@code bin/vigil serve} with etcd's flags, its own hosts file
 * passed to its JVM through {@code VIGIL_JAVA_OPTS}, so that its peer traffic to each other
 * member goes through a proxy of its own ({@link HostsFileLinks}). bin/vigil execs the JVM, so
 * the process the harness signals is the server itself.
 *
 * <p>The repository root is {@code -Dvigil.root}, or the first folder at or above the working
 * directory with a {@code bin/vigil}. The server must be built before ({@code ./mvnw -B -o -q
 * install -DskipTests}): a launcher that found it stale would build it in the middle of a run.
 */
public final class VigilCluster extends ProcessCluster {
    private final Path root;

    public VigilCluster(Path dir, ClusterConfig config) {
        super(dir, config);
        this.root = repositoryRoot();
        Path target = root.resolve("server/target");
        if (!Files.isDirectory(target.resolve("lib"))) {
            throw new IllegalStateException("Vigil is not built: run ./mvnw -B -o -q install -DskipTests in " + root);
        }
    }

    /** The folder holding bin/vigil: -Dvigil.root, or the working directory or one above it. */
    static Path repositoryRoot() {
        String configured = System.getProperty("vigil.root");
        if (configured != null) {
            return Path.of(configured).toAbsolutePath();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isExecutable(p.resolve("bin/vigil"))) {
                return p;
            }
        }
        throw new IllegalStateException("no bin/vigil at or above " + Path.of("").toAbsolutePath() + "; set -Dvigil.root");
    }

    @Override
    public String kind() {
        return "vigil";
    }

    @Override
    PeerLinks newLinks() {
        return new HostsFileLinks(dir().resolve("peer-links"));
    }

    @Override
    Launch command(Member m, String initialCluster, String state) {
        List<String> cmd = new ArrayList<>(List.of(root.resolve("bin/vigil").toString(), "serve"));
        cmd.addAll(commonFlags(m, initialCluster, state));
        String javaOpts = String.join(" ", links().jvmOptions(m)) + " -Xmx384m";
        return new Launch(cmd, Map.of("VIGIL_JAVA_OPTS", javaOpts));
    }
}
