package io.vigil.benchmarks.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.benchmarks.measure.ResourceUsage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcFsTest {
  @TempDir
  Path proc;

  /** A /proc/PID/stat line as the kernel writes it (52 fields), with the given ppid and times. */
  private static String statLine(long pid, String comm, long ppid, long utime, long stime) {
    return pid + " (" + comm + ") S " + ppid + " " + pid + " " + pid + " 0 -1 4194560 1529 0 0 0 "
        + utime + " " + stime + " 0 0 20 0 12 0 4711 2147483648 12000 18446744073709551615 1 1 0 0 0 0 0 4096 "
        + "17663 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
  }

  private void process(long pid, long ppid, long utime, long stime, long rssKb) throws IOException {
    Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)));
    Files.writeString(dir.resolve("stat"), statLine(pid, "java", ppid, utime, stime));
    Files.writeString(dir.resolve("status"), "Name:\tjava\nState:\tS (sleeping)\nVmPeak:\t 9999 kB\nVmRSS:\t"
        + rssKb + " kB\nThreads:\t12\n");
  }

  @Test
  void parsesStatEvenWhenTheCommandNameHasSpacesAndParentheses() {
    ProcStat stat = ProcStat.parse(statLine(4242, "my (odd) server", 1, 250, 50).trim());
    assertEquals(4242, stat.pid());
    assertEquals(1, stat.ppid());
    assertEquals(250, stat.utimeTicks());
    assertEquals(50, stat.stimeTicks());
    assertEquals(300, stat.cpuTicks());
  }

  @Test
  void readsTheCpuOfReapedChildrenFromFields16And17() throws IOException {
    String line = "77 (java) S 1 77 77 0 -1 4194560 1529 0 0 0 250 50 700 300 20 0 12 0 4711 2147483648 12000";
    assertEquals(1000, ProcStat.parseWaitedChildrenTicks(line));
    Files.createDirectories(proc.resolve("77"));
    Files.writeString(proc.resolve("77/stat"), line + "\n");
    assertEquals(1000, new ProcFs(proc, 100).waitedChildrenTicks(77));
    assertThrows(IOException.class, () -> new ProcFs(proc, 100).waitedChildrenTicks(78));
  }

  @Test
  void rejectsWhatIsNotAStatLine() {
    assertThrows(IllegalArgumentException.class, () -> ProcStat.parse("hello"));
    assertThrows(IllegalArgumentException.class, () -> ProcStat.parse("12 (x) S 1 2"));
  }

  @Test
  void readsRssFromStatusAndZeroWithoutIt() {
    assertEquals(2048L * 1024, ProcStat.parseRssBytes("Name:\tx\nVmRSS:\t    2048 kB\n"));
    assertEquals(0, ProcStat.parseRssBytes("Name:\tkworker\nState:\tI (idle)\n"));
  }

  @Test
  void sumsAProcessWithAllItsDescendantsButNotOthers() throws IOException {
    process(100, 1, 10, 5, 1000);   // launcher script
    process(101, 100, 300, 40, 50000); // the server, its child
    process(102, 101, 2, 1, 100);   // a grandchild
    process(200, 1, 999, 999, 77777); // unrelated
    Files.createDirectories(proc.resolve("self")); // non-numeric entries are ignored
    ProcFs procFs = new ProcFs(proc, 100);

    ProcessSample tree = procFs.sampleTree(100);
    assertEquals(10 + 5 + 300 + 40 + 2 + 1, tree.cpuTicks());
    assertEquals((1000L + 50000 + 100) * 1024, tree.rssBytes());
    assertEquals(3, tree.processes());

    ProcessSample alone = procFs.sampleProcess(101);
    assertEquals(340, alone.cpuTicks());
    assertEquals(1, alone.processes());

    assertEquals(0, procFs.sampleTree(999).processes());
    assertEquals(3.58, procFs.ticksToSeconds(358), 1e-9);
  }

  @Test
  void monitorReportsCpuDeltaAndPeakRss() throws IOException {
    process(100, 1, 1000, 200, 80_000);
    ProcFs procFs = new ProcFs(proc, 100);
    try (ResourceMonitor monitor = new ResourceMonitor(procFs, 60_000, true)) {
      monitor.start(100);
      process(100, 1, 1250, 300, 60_000); // 350 ticks later, RSS shrank
      ResourceUsage usage = monitor.stop();
      assertEquals(3.5, usage.cpuSeconds(), 1e-9);
      assertEquals(80_000L * 1024, usage.peakRssBytes());
    }
  }

  @Test
  void monitorWithoutPidKnowsNothing() {
    try (ResourceMonitor monitor = new ResourceMonitor(new ProcFs(proc, 100), 100, true)) {
      monitor.start(-1);
      assertTrue(!monitor.stop().known());
    }
  }
}
