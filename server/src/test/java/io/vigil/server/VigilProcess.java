package io.vigil.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Vigil server process, started with the same main class as bin/vigil and this JVM's
 * class path, listening on a port the kernel picks (the process prints it).
 */
final class VigilProcess implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("ready to serve client requests on https?://([^:]+):(\\d+)");

    private final Process process;
    /** The host:port from the ready line; fails when the process exits before printing it. */
    private final CompletableFuture<String> started = new CompletableFuture<>();
    private String endpoint;
    private final List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());

    /** The java command line that runs bin/vigil's main class here, up to its arguments. */
    private static List<String> javaCommand(List<String> jvmOptions) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens", "java.base/java.nio=ALL-UNNAMED",
                "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-Xmx512m",
                // a test's server lives seconds: the C2 compiler would cost it more CPU than it
                // returns (C1 alone starts a member on ~40% less CPU), and on CI's two cores that CPU
                // is every other member's; serial GC spares the parallel collectors' threads
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        return cmd;
    }

    /** A {@code vigil} command line (e.g. {@code snapshot restore FILE ...}) run as bin/vigil runs it, not started. */
    static ProcessBuilder commandLine(String... args) {
        List<String> cmd = javaCommand(List.of());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    /** Runs a {@code vigil} command that ends by itself (e.g. {@code snapshot status FILE}) and returns what it printed. */
    static Etcdctl.Result command(String... args) {
        return Etcdctl.capture(commandLine(args), null, 120);
    }

    private VigilProcess(Path dataDir, List<String> jvmOptions, String... extraFlags) {
        this(dataDir, jvmOptions, READY, m -> m.group(1) + ":" + m.group(2), extraFlags);
    }

    /** Started once a line matches {@code ready}; {@code endpointOf} reads host:port from that match. */
    private VigilProcess(Path dataDir, List<String> jvmOptions, Pattern ready,
            java.util.function.Function<Matcher, String> endpointOf, String... extraFlags) {
        List<String> cmd = javaCommand(jvmOptions);
        cmd.addAll(List.of("serve",
                "--data-dir", dataDir.toString(),
                "--listen-client-urls", "http://127.0.0.1:0"));
        cmd.addAll(List.of(extraFlags));
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                    Matcher m = ready.matcher(line);
                    if (m.find()) {
                        started.complete(endpointOf.apply(m));
                    }
                }
            } catch (IOException ignored) {
                // the process went away; what it printed is in output
            }
            started.completeExceptionally(new IllegalStateException("vigil exited before it was ready: " + output));
        }, "vigil-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Waits for the ready line; a process that does not print it in time is killed. */
    VigilProcess awaitReady() {
        try {
            endpoint = started.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IllegalStateException("vigil did not start: " + output, e);
        }
        return this;
    }

    static VigilProcess start(Path dataDir, String... extraFlags) {
        return new VigilProcess(dataDir, List.of(), extraFlags).awaitReady();
    }

    /** As {@link #start(Path, String...)}, with {@code jvmOptions} for the server's JVM too. */
    static VigilProcess start(Path dataDir, List<String> jvmOptions, String... extraFlags) {
        return spawn(dataDir, jvmOptions, extraFlags).awaitReady();
    }

    /**
     * Starts the process without waiting for it to be ready: several members' JVMs then start
     * side by side. {@link #awaitReady} must be called before the process is used.
     */
    static VigilProcess spawn(Path dataDir, List<String> jvmOptions, String... extraFlags) {
        return new VigilProcess(dataDir, jvmOptions, extraFlags);
    }

    /**
     * As {@link #start(Path, String...)}, for a server that does not print the ready line (its log
     * level is above info): it listens on {@code port} and counts as started once a line matches
     * {@code started}; it may not serve yet.
     */
    static VigilProcess startQuiet(Path dataDir, int port, Pattern started, String... extraFlags) {
        List<String> flags = new ArrayList<>(List.of(extraFlags));
        flags.addAll(List.of("--listen-client-urls", "http://127.0.0.1:" + port));
        return new VigilProcess(dataDir, List.of(), started, m -> "127.0.0.1:" + port, flags.toArray(String[]::new))
                .awaitReady();
    }

    /** host:port, as etcdctl's --endpoints wants it. */
    String endpoint() {
        return endpoint;
    }

    String host() {
        return endpoint.substring(0, endpoint.lastIndexOf(':'));
    }

    int port() {
        return Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
    }

    List<String> output() {
        return List.copyOf(output);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hook, no flush, nothing the process can do about it. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
