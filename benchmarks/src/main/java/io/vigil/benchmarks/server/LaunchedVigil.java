package io.vigil.benchmarks.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A single-node Vigil started through its launcher with etcd's flag names:
 * {@code bin/vigil serve --data-dir D --listen-client-urls http://127.0.0.1:P
 * --advertise-client-urls http://127.0.0.1:P}. Its output goes to {@code logFile}. Closing it
 * terminates the launcher and every descendant, then deletes the data directory.
 */
public final class LaunchedVigil implements ServerHandle {
  private final Path launcher;
  private final Process process;
  private final String endpoint;
  private final Path dataDir;

  private LaunchedVigil(Path launcher, Process process, String endpoint, Path dataDir) {
    this.launcher = launcher;
    this.process = process;
    this.endpoint = endpoint;
    this.dataDir = dataDir;
  }

  public static LaunchedVigil start(Path launcher, Path logFile, long startTimeoutMs)
      throws IOException, InterruptedException {
    if (!Files.isExecutable(launcher)) {
      throw new IllegalStateException("Vigil launcher " + launcher + " is missing or not executable "
          + "(the server is not built yet?); pass --vigil-endpoint, --vigil-launcher, or --sides etcd");
    }
    int port = FreePorts.pick(0);
    String url = "http://127.0.0.1:" + port;
    Path dataDir = Files.createTempDirectory("vigil-bench-data");
    Files.createDirectories(logFile.getParent());
    Process process = new ProcessBuilder(List.of(launcher.toString(), "serve", "--data-dir", dataDir.toString(),
        "--listen-client-urls", url, "--advertise-client-urls", url))
        .redirectErrorStream(true)
        .redirectOutput(logFile.toFile())
        .start();
    LaunchedVigil vigil = new LaunchedVigil(launcher, process, "127.0.0.1:" + port, dataDir);
    try {
      Readiness.await(vigil.endpoint, startTimeoutMs, process::isAlive);
    } catch (RuntimeException | InterruptedException e) {
      vigil.close();
      throw new IllegalStateException(e.getMessage() + " (server log: " + logFile + ")", e);
    }
    return vigil;
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
    return "started by " + launcher;
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

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      System.err.println("warning: could not delete " + dir + ": " + e.getMessage());
    }
  }
}
