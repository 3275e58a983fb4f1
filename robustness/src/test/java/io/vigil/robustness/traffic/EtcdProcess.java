package io.vigil.robustness.traffic;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.RangeRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A single real etcd (Debian's etcd-server, 3.4) on free loopback ports with its own data dir,
 * which can be killed and started again on the same ports and data. Tests using it are skipped
 * where etcd is not installed, unless -Dvigil.requireEtcd=true makes that a failure.
 */
final class EtcdProcess implements AutoCloseable {
    private final Path dir;
    private final int clientPort;
    private final int peerPort;
    private Process process;
    private int starts;

    private EtcdProcess(Path dir, int clientPort, int peerPort) {
        this.dir = dir;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
    }

    static EtcdProcess start(Path dir) throws IOException, InterruptedException {
        boolean installed = onPath("etcd");
        if (Boolean.getBoolean("vigil.requireEtcd") && !installed) {
            throw new IllegalStateException("etcd must be installed (apt-get install etcd-server etcd-client)");
        }
        Assumptions.assumeTrue(installed, "etcd not installed: apt-get install etcd-server etcd-client");
        // the ports are free when chosen; if another process takes one first, etcd exits and we choose again
        for (int attempt = 0; attempt < 5; attempt++) {
            EtcdProcess e = new EtcdProcess(Files.createTempDirectory(dir, "etcd"), freePort(), freePort());
            if (e.startAgain()) {
                return e;
            }
        }
        throw new IllegalStateException("etcd did not start; logs in " + dir);
    }

    String endpoint() {
        return "127.0.0.1:" + clientPort;
    }

    /** Starts etcd on this data dir and these ports; true once it answers a linearizable read. */
    boolean startAgain() throws IOException, InterruptedException {
        String peer = "http://127.0.0.1:" + peerPort;
        process = new ProcessBuilder(List.of("etcd", "--name", "traffic", "--data-dir", dir.resolve("data").toString(),
                "--listen-client-urls", "http://" + endpoint(), "--advertise-client-urls", "http://" + endpoint(),
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "traffic=" + peer, "--log-level", "error"))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("etcd-" + (starts++) + ".log").toFile())
                .start();
        if (awaitServing()) {
            return true;
        }
        kill();
        return false;
    }

    private boolean awaitServing() throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", clientPort).usePlaintext().build();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline && process.isAlive()) {
                try {
                    KVGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
                            .range(RangeRequest.newBuilder().setKey(Keys.key("health")).build());
                    return true;
                } catch (RuntimeException notYet) {
                    Thread.sleep(100);
                }
            }
            return false;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** SIGKILL: whatever etcd had not made durable is gone, as in the nemesis's kill. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            kill();
        }
    }
}
