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
    int open = line.indexOf('(');
    int close = line.lastIndexOf(')');
    if (open < 0 || close < open) {
      throw new IllegalArgumentException("not a /proc/PID/stat line: " + line);
    }
    long pid = Long.parseLong(line.substring(0, open).trim());
    String[] rest = line.substring(close + 1).trim().split("\\s+");
    // rest[0] is field 3 (state), so field n is rest[n - 3]
    if (rest.length < 13) {
      throw new IllegalArgumentException("too few fields in /proc/" + pid + "/stat: " + line);
    }
    return new ProcStat(pid, Long.parseLong(rest[1]), Long.parseLong(rest[11]), Long.parseLong(rest[12]));
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
