package io.vigil.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real etcd (Debian's etcd-server, 3.4) on loopback, the reference Vigil is compared with.
 * Where etcd is not installed the calling test is skipped, unless -Dvigil.requireEtcd=true (CI)
 * makes that a failure.
 */
final class ReferenceEtcd implements AutoCloseable {
    private final Process process;
    private final String endpoint;

    /**
     * @param scheme the client URLs' scheme
     * @param etcdctlTls the etcdctl flags that reach it ({@code --cacert ...}), for the health check
     */
    private ReferenceEtcd(Path dataDir, String scheme, List<String> etcdctlTls, String... extraFlags)
            throws IOException, InterruptedException {
        Process started = null;
        String ep = null;
        // the ports are free when chosen; if another process takes one first, etcd exits and we choose again
        for (int attempt = 0; attempt < 5 && started == null; attempt++) {
            int client = VigilCluster.freePort();
            int peer = VigilCluster.freePort();
            ep = "127.0.0.1:" + client;
            Path dir = Files.createTempDirectory(dataDir, "etcd");
            List<String> cmd = new ArrayList<>(List.of("etcd", "--name", "ref", "--data-dir", dir.toString(),
                    "--listen-client-urls", scheme + "://" + ep, "--advertise-client-urls", scheme + "://" + ep,
                    "--listen-peer-urls", "http://127.0.0.1:" + peer,
                    "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
                    "--initial-cluster", "ref=http://127.0.0.1:" + peer, "--log-level", "error"));
            cmd.addAll(List.of(extraFlags));
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(dataDir.resolve("etcd-" + attempt + ".log").toFile())
                    .start();
            if (awaitHealthy(p, ep, etcdctlTls)) {
                started = p;
            } else {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (started == null) {
            throw new IllegalStateException("reference etcd did not start; logs in " + dataDir);
        }
        process = started;
        endpoint = ep;
    }

    static void assumeInstalled() {
        boolean installed = onPath("etcd") && onPath("etcdctl");
        if (Boolean.getBoolean("vigil.requireEtcd")) {
            if (!installed) {
                throw new IllegalStateException("etcd and etcdctl must be installed (apt-get install etcd-server etcd-client)");
            }
        }
        Assumptions.assumeTrue(installed, "etcd/etcdctl not installed: apt-get install etcd-server etcd-client");
    }

    static ReferenceEtcd start(Path dataDir, String... extraFlags) throws IOException, InterruptedException {
        assumeInstalled();
        return new ReferenceEtcd(dataDir, "http", List.of(), extraFlags);
    }

    /**
     * An etcd serving clients over TLS: {@code serverFlags} give its certificate flags
     * ({@code --cert-file ...}), {@code etcdctlTls} the etcdctl flags that reach it.
     */
    static ReferenceEtcd startTls(Path dataDir, List<String> etcdctlTls, String... serverFlags)
            throws IOException, InterruptedException {
        assumeInstalled();
        return new ReferenceEtcd(dataDir, "https", etcdctlTls, serverFlags);
    }

    String endpoint() {
        return endpoint;
    }

    private static boolean awaitHealthy(Process p, String ep, List<String> etcdctlTls) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && p.isAlive()) {
            List<String> args = new ArrayList<>(etcdctlTls);
            args.addAll(List.of("endpoint", "health"));
            Etcdctl.Result r = Etcdctl.run(ep, null, args.toArray(String[]::new));
            if (r.exitCode() == 0) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
