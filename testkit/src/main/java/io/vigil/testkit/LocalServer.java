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
    private final String member;
    private final List<String> command;
    private final Path dataDir;
    private final int clientPort;
    private final int peerPort;
    private String initialCluster;
    private Process process;
    private CompletableFuture<Void> ready;

    private LocalServer(String name, String member, Path dataDir) {
        this.name = name;
        this.member = member;
        this.command = command(name);
        this.dataDir = dataDir;
        this.clientPort = freePort();
        this.peerPort = freePort();
    }

    private static List<String> command(String name) {
        return switch (name) {
            case "etcd" -> List.of("etcd");
            case "vigil" -> List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                    // a test's server lives seconds: C1 alone and the serial collector spare CI's two cores
                    "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"), VIGIL_MAIN, "serve");
            default -> throw new IllegalArgumentException("etcd or vigil, not " + name);
        };
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
        return start("etcd", dataDir);
    }

    /**
     * Starts one Vigil from this JVM's class path (which must hold the server and its logging) on
     * free ports with its data under {@code dataDir}; returns once it serves clients.
     */
    public static LocalServer vigil(Path dataDir) {
        return start("vigil", dataDir);
    }

    /** Starts one member of {@code name} ("etcd" or "vigil"); returns once it serves clients. */
    public static LocalServer start(String name, Path dataDir) {
        return cluster(name, dataDir, 1).get(0);
    }

    /**
     * Starts a new cluster of {@code size} members of {@code name} ("etcd" or "vigil"), their data
     * in {@code dataDir}/m0, m1, ...; returns once every member serves clients.
     */
    public static List<LocalServer> cluster(String name, Path dataDir, int size) {
        List<LocalServer> members = new java.util.ArrayList<>();
        java.util.StringJoiner initial = new java.util.StringJoiner(",");
        for (int i = 0; i < size; i++) {
            LocalServer m = new LocalServer(name, "m" + i, size == 1 ? dataDir : dataDir.resolve("m" + i));
            members.add(m);
            initial.add(m.member + "=http://127.0.0.1:" + m.peerPort);
        }
        for (LocalServer m : members) {
            m.initialCluster = initial.toString();
            m.launch();
        }
        for (LocalServer m : members) {
            m.awaitReady();
        }
        return members;
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

    /** The port it serves clients on (the same across restarts). */
    public int clientPort() {
        return clientPort;
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
        launch();
        awaitReady();
    }

    private void launch() {
        String client = "http://127.0.0.1:" + clientPort;
        String peer = "http://127.0.0.1:" + peerPort;
        Path log = dataDir.resolve(name + ".log");
        try {
            Files.createDirectories(dataDir);
            List<String> cmd = new java.util.ArrayList<>(command);
            cmd.addAll(List.of("--name", member, "--data-dir", dataDir.resolve("data").toString(),
                    "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                    "--initial-cluster", initialCluster));
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        CompletableFuture<Void> started = new CompletableFuture<>();
        ready = started;
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
                        started.complete(null);
                    }
                }
            } catch (IOException e) {
                // the process went away
            }
            started.completeExceptionally(new IllegalStateException(name + " ended before serving; its log: " + log));
        }, name + "-" + member + "-log");
        reader.setDaemon(true);
        reader.start();
    }

    private void awaitReady() {
        try {
            ready.get(START_PATIENCE_S, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            Path log = dataDir.resolve(name + ".log");
            throw new IllegalStateException(name + " " + member + " did not serve within " + START_PATIENCE_S
                    + " s; its log:\n" + tail(log), e);
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
