package io.vigil.client;

import io.vigil.testkit.LocalServer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * The servers every client feature is tried against: Vigil and a real etcd 3.4, each its own
 * process. Where etcd is not installed its cases are skipped, unless -Dvigil.requireEtcd=true
 * (CI) makes that a failure.
 */
final class Servers {
    /** The names parameterized tests run over. */
    static final List<String> NAMES = List.of("vigil", "etcd");

    private Servers() {
    }

    static LocalServer start(String name, Path dir) {
        assumeRunnable(name);
        return LocalServer.start(name, dir);
    }

    /** A new cluster of {@code size} members of {@code name}, each serving clients. */
    static List<LocalServer> cluster(String name, Path dir, int size) {
        assumeRunnable(name);
        return LocalServer.cluster(name, dir, size);
    }

    private static void assumeRunnable(String name) {
        if (name.equals("etcd")) {
            boolean installed = LocalServer.etcdInstalled();
            if (Boolean.getBoolean("vigil.requireEtcd") && !installed) {
                throw new IllegalStateException("etcd must be installed (apt-get install etcd-server)");
            }
            Assumptions.assumeTrue(installed, "etcd not installed: apt-get install etcd-server");
        }
    }

    static VigilClient client(LocalServer server) {
        return VigilClient.builder().endpoints(server.endpoint()).build();
    }
}
