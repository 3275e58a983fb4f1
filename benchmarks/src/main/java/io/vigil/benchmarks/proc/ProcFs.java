package io.vigil.benchmarks.proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads process CPU time and RSS from a proc file system. A server is sampled with its
 * descendants, because launchers are often scripts that start the real process as a child
 * ({@code bin/vigil} → java). The root is a parameter so tests can use a synthetic tree.
 */
public final class ProcFs {
  private final Path root;
  private final long clockTicksPerSecond;

  public ProcFs(Path root, long clockTicksPerSecond) {
    if (clockTicksPerSecond <= 0) {
      throw new IllegalArgumentException("clockTicksPerSecond must be > 0: " + clockTicksPerSecond);
    }
    this.root = root;
    this.clockTicksPerSecond = clockTicksPerSecond;
  }

  /** The machine's /proc with its USER_HZ ({@code getconf CLK_TCK}, 100 when that fails). */
  public static ProcFs system() {
    return new ProcFs(Path.of("/proc"), systemClockTicks());
  }

  public static boolean available() {
    return Files.isReadable(Path.of("/proc/self/stat"));
  }

  public long clockTicksPerSecond() {
    return clockTicksPerSecond;
  }

  public double ticksToSeconds(long ticks) {
    return (double) ticks / clockTicksPerSecond;
  }

  /** Sums {@code pid} and all its live descendants; a process that exits meanwhile is skipped. */
  public ProcessSample sampleTree(long pid) throws IOException {
    return sum(treeOf(pid));
  }

  /** {@code pid} alone, without its children. */
  public ProcessSample sampleProcess(long pid) throws IOException {
    String line = readOrNull(root.resolve(Long.toString(pid)).resolve("stat"));
    return sum(line == null ? List.of() : List.of(ProcStat.parse(line.trim())));
  }

  /** CPU ticks of the children {@code pid} has reaped so far (see {@link ProcStat#parseWaitedChildrenTicks}). */
  public long waitedChildrenTicks(long pid) throws IOException {
    String line = readOrNull(root.resolve(Long.toString(pid)).resolve("stat"));
    if (line == null) {
      throw new IOException("no /proc/" + pid + "/stat");
    }
    return ProcStat.parseWaitedChildrenTicks(line.trim());
  }

  private ProcessSample sum(List<ProcStat> processes) throws IOException {
    long cpuTicks = 0;
    long rssBytes = 0;
    int count = 0;
    for (ProcStat stat : processes) {
      String status = readOrNull(root.resolve(Long.toString(stat.pid())).resolve("status"));
      if (status == null) {
        continue;
      }
      cpuTicks += stat.cpuTicks();
      rssBytes += ProcStat.parseRssBytes(status);
      count++;
    }
    return new ProcessSample(cpuTicks, rssBytes, count);
  }

  List<ProcStat> treeOf(long pid) throws IOException {
    Map<Long, List<ProcStat>> childrenByParent = new HashMap<>();
    ProcStat top = null;
    for (ProcStat stat : allProcesses()) {
      childrenByParent.computeIfAbsent(stat.ppid(), k -> new ArrayList<>()).add(stat);
      if (stat.pid() == pid) {
        top = stat;
      }
    }
    List<ProcStat> tree = new ArrayList<>();
    if (top == null) {
      return tree;
    }
    ArrayDeque<ProcStat> pending = new ArrayDeque<>(List.of(top));
    while (!pending.isEmpty()) {
      ProcStat next = pending.poll();
      tree.add(next);
      pending.addAll(childrenByParent.getOrDefault(next.pid(), List.of()));
    }
    return tree;
  }

  private List<ProcStat> allProcesses() throws IOException {
    List<ProcStat> stats = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, p -> isNumber(p.getFileName().toString()))) {
      for (Path dir : dirs) {
        String line = readOrNull(dir.resolve("stat"));
        if (line != null) {
          stats.add(ProcStat.parse(line.trim()));
        }
      }
    }
    return stats;
  }

  private static boolean isNumber(String name) {
    return !name.isEmpty() && name.chars().allMatch(Character::isDigit);
  }

  private static String readOrNull(Path file) throws IOException {
    try {
      return Files.readString(file);
    } catch (NoSuchFileException e) {
      return null; // the process exited between listing and reading
    } catch (IOException e) {
      if (!Files.exists(file.getParent())) {
        return null;
      }
      throw e;
    }
  }

  private static long systemClockTicks() {
    try {
      Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(getconf.getInputStream().readAllBytes()).trim();
      return getconf.waitFor() == 0 ? Long.parseLong(out) : 100;
    } catch (IOException | NumberFormatException e) {
      return 100;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 100;
    }
  }
}
