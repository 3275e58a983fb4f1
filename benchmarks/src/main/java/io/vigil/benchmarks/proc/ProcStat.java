package io.vigil.benchmarks.proc;

/**
 * The fields of one {@code /proc/PID/stat} line that the sampler needs. The command name (field
 * 2) is in parentheses and may itself contain spaces and parentheses, so fields are counted from
 * the last ')' (see proc(5)): state is field 3, ppid 4, utime 14, stime 15 (clock ticks).
 */
public record ProcStat(long pid, long ppid, long utimeTicks, long stimeTicks) {

  public long cpuTicks() {
    return utimeTicks + stimeTicks;
  }

  public static ProcStat parse(String line) {
    String[] rest = fieldsFrom3(line);
    long pid = Long.parseLong(line.substring(0, line.indexOf('(')).trim());
    return new ProcStat(pid, Long.parseLong(rest[1]), Long.parseLong(rest[11]), Long.parseLong(rest[12]));
  }

  /**
   * cutime + cstime (fields 16 and 17): CPU ticks of the children this process has waited for,
   * so the difference across a child's whole life is that child's CPU once it is reaped.
   */
  public static long parseWaitedChildrenTicks(String line) {
    String[] rest = fieldsFrom3(line);
    return Long.parseLong(rest[13]) + Long.parseLong(rest[14]);
  }

  /** Fields 3.. of a stat line: element 0 is field 3 (state), so field n is element n - 3. */
  private static String[] fieldsFrom3(String line) {
    int open = line.indexOf('(');
    int close = line.lastIndexOf(')');
    if (open < 0 || close < open) {
      throw new IllegalArgumentException("not a /proc/PID/stat line: " + line);
    }
    String[] rest = line.substring(close + 1).trim().split("\\s+");
    if (rest.length < 15) {
      throw new IllegalArgumentException("too few fields in /proc/PID/stat: " + line);
    }
    return rest;
  }

  /** VmRSS of a {@code /proc/PID/status} text in bytes; 0 when absent (kernel threads, zombies). */
  public static long parseRssBytes(String statusText) {
    for (String line : statusText.split("\n")) {
      if (line.startsWith("VmRSS:")) {
        String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
        if (parts.length != 2 || !parts[1].equals("kB")) {
          throw new IllegalArgumentException("unexpected VmRSS line: " + line);
        }
        return Long.parseLong(parts[0]) * 1024;
      }
    }
    return 0;
  }
}
