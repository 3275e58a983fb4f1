package io.vigil.benchmarks.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A server process this harness started from a command line ({@link ServerCommands}) on a fresh
 * data directory, its output in {@code logFile}. It is returned only once it answers Status.
 * Closing it terminates the process and every descendant (a launcher's JVM), then deletes the
 * data directory.
 */
public final class LaunchedServer implements ServerHandle {
  private final String origin;
  private final Process process;
  private final String endpoint;
  private final Path dataDir;

  private LaunchedServer(String origin, Process process, String endpoint, Path dataDir) {
    this.origin = origin;
    this.process = process;
    this.endpoint = endpoint;
    this.dataDir = dataDir;
  }

  /** A single-node Vigil: {@code LAUNCHER serve --data-dir D --listen-client-urls U ...}. */
  public static LaunchedServer vigil(Path launcher, Path logFile, long startTimeoutMs, TlsFiles tls,
      ClientSecurity security) throws IOException, InterruptedException {
    if (!Files.isExecutable(launcher)) {
      throw new IllegalStateException("Vigil launcher " + launcher + " is missing or not executable "
          + "(the server is not built yet?); pass --vigil-endpoint, --vigil-launcher, or --sides etcd");
    }
    int port = FreePorts.pick(0);
    Path dataDir = Files.createTempDirectory("vigil-bench-data");
    return start("started by " + launcher, ServerCommands.vigil(launcher, port, dataDir, tls), Map.of(),
        port, dataDir, logFile, startTimeoutMs, security);
  }

  /** A single-node etcd from the PATH with the reference script's flags plus {@code tls}'s. */
  public static LaunchedServer etcd(Path logFile, long startTimeoutMs, TlsFiles tls, ClientSecurity security)
      throws IOException, InterruptedException {
    int port = FreePorts.pick(ServerCommands.ETCD_PEER_OFFSET);
    Path dataDir = Files.createTempDirectory("etcd-bench-data");
    // as reference-etcd: an empty ETCD_UNSUPPORTED_ARCH lets etcd start on any architecture
    return start("etcd started by the harness on port " + port, ServerCommands.etcd("etcd", port, dataDir, tls),
        Map.of("ETCD_UNSUPPORTED_ARCH", ""), port, dataDir, logFile, startTimeoutMs, security);
  }

  private static LaunchedServer start(String origin, List<String> command, Map<String, String> env, int port,
      Path dataDir, Path logFile, long startTimeoutMs, ClientSecurity security)
      throws IOException, InterruptedException {
    Files.createDirectories(logFile.getParent());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(logFile.toFile());
    builder.environment().putAll(env);
    Process process = builder.start();
    LaunchedServer server = new LaunchedServer(origin, process, "127.0.0.1:" + port, dataDir);
    try {
      Readiness.await(server.endpoint, security, startTimeoutMs, process::isAlive);
    } catch (RuntimeException | InterruptedException e) {
      server.close();
      throw new IllegalStateException(e.getMessage() + " (server log: " + logFile + ")", e);
    }
    return server;
  }

  @Override
  public String endpoint() {
    return endpoint;
  }

  @Override
  public long pid() {
    return process.pid();
  }

  @Override
  public String origin() {
    return origin;
  }

  @Override
  public void close() {
    List<ProcessHandle> tree = Stream.concat(process.descendants(), Stream.of(process.toHandle())).toList();
    tree.forEach(ProcessHandle::destroy);
    long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (ProcessHandle handle : tree) {
      try {
        long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime()));
        handle.onExit().get(leftMs, TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        handle.destroyForcibly();
      }
    }
    deleteRecursively(dataDir);
  }

  public static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      System.err.println("warning: could not delete " + dir + ": " + e.getMessage());
    }
  }
}
