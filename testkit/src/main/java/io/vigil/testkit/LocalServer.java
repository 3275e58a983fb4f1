package io.vigil.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One server as its own process, a single member on loopback ports with its data in a folder of
 * the caller's: a real etcd (Debian's etcd-server, 3.4), or Vigil run from the calling JVM's class
 * path as {@code bin/vigil serve} runs it. Both get the same etcd flags. It can be killed
 * ({@code SIGKILL}, a crash: nothing unsynced survives) and started again on the same ports and
 * data. Started means it printed etcd's "ready to serve client requests".
 */
public final class LocalServer implements AutoCloseable {
    private static final String READY = "ready to serve client requests";
    private static final long START_PATIENCE_S = 60;
    private static final String VIGIL_MAIN = "io.vigil.server.Main";

    private final String name;
    private final List<String> command;
    private final Path dataDir;
    private final int clientPort;
    private final int peerPort;
    private Process process;

    private LocalServer(String name, List<String> command, Path dataDir) {
        this.name = name;
        this.command = command;
        this.dataDir = dataDir;
        this.clientPort = freePort();
        this.peerPort = freePort();
    }

    /** Whether etcd is on the PATH. */
    public static boolean etcdInstalled() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "etcd"))) {
                return true;
            }
        }
        return false;
    }

    /** Starts one etcd on free ports with its data under {@code dataDir}; returns once it serves clients. */
    public static LocalServer etcd(Path dataDir) {
        LocalServer etcd = new LocalServer("etcd", List.of("etcd"), dataDir);
        etcd.startProcess();
        return etcd;
    }

    /**
     * Starts one Vigil from this JVM's class path (which must hold the server) on free ports with
     * its data under {@code dataDir}; returns once it serves clients.
     */
    public static LocalServer vigil(Path dataDir) {
        LocalServer vigil = new LocalServer("vigil", List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                // a test's server lives seconds: C1 alone and the serial collector spare CI's two cores
                "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), VIGIL_MAIN, "serve"), dataDir);
        vigil.startProcess();
        return vigil;
    }

    /** "etcd" or "vigil". */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name + "@" + endpoint();
    }

    /** {@code 127.0.0.1:PORT}. */
    public String endpoint() {
        return "127.0.0.1:" + clientPort;
    }

    /** Kills it with SIGKILL, as a crash: nothing it did not sync survives. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts it again (after {@link #kill}) on the same ports and data; returns once it serves clients. */
    public void restart() {
        if (process.isAlive()) {
            throw new IllegalStateException(name + " is still running");
        }
        startProcess();
    }

    private void startProcess() {
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + peerPort;
        try {
            Files.createDirectories(dataDir);
            List<String> cmd = new java.util.ArrayList<>(command);
            cmd.addAll(List.of("--name", "m", "--data-dir", dataDir.resolve("data").toString(),
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", "m=" + peer));
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Path log = dataDir.resolve(name + ".log");
        Process p = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                 var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8,
                         java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND)) {
                String line;
                while ((line = r.readLine()) != null) {
                    out.write(line);
                    out.newLine();
                    out.flush();
                    if (line.contains(READY)) {
                        ready.complete(null);
                    }
                }
            } catch (IOException e) {
                // the process went away
            }
            ready.completeExceptionally(new IllegalStateException(name + " ended before serving; its log: " + log));
        }, name + "-log");
        reader.setDaemon(true);
        reader.start();
        try {
            ready.get(START_PATIENCE_S, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IllegalStateException(name + " did not serve within " + START_PATIENCE_S + " s; its log:\n" + tail(log), e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** A port free when asked (another process may still take it first). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
