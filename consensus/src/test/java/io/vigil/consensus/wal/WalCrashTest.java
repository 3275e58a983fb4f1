package io.vigil.consensus.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.HardState;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL in the middle of saving: a child JVM saves batches as fast as it can and prints the last
 * index of each save once it returned; the test kills it at a random point, reopens the WAL and
 * finds every acknowledged entry, whole and in order. The child's seed is printed for a replay.
 */
class WalCrashTest {
  @TempDir
  Path dir;

  @Test
  void everyAcknowledgedSaveSurvivesSigkill() throws Exception {
    Random seeds = new Random();
    for (int round = 0; round < 3; round++) {
      long seed = seeds.nextLong();
      Path d = dir.resolve("round-" + round);
      long acked = 0;
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), Child.class.getName(), d.toString(), Long.toString(seed))
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      long killAfter = 50 + new Random(seed).nextInt(2000);
      try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = out.readLine()) != null) {
          acked = Long.parseLong(line.trim());
          if (acked >= killAfter) {
            child.destroyForcibly(); // SIGKILL
            break;
          }
        }
      }
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      assertTrue(acked > 0, "the child (seed " + seed + ") acknowledged nothing");
      try (Wal wal = Wal.open(d, Child.SEGMENT_BYTES)) {
        List<Entry> entries = wal.entries();
        assertTrue(wal.lastIndex() >= acked, "seed " + seed + ": acknowledged " + acked + ", recovered " + wal.lastIndex());
        for (int i = 0; i < entries.size(); i++) {
          WalTest.assertEntry(Child.entry(i + 1), entries.get(i));
        }
        assertEquals(wal.lastIndex(), entries.size());
        // each save writes its entries, then a state committing everything before them: the
        // recovered state is that of the last save or (torn between the two) of the one before
        long commit = wal.hardState().commit();
        assertEquals(new HardState(1, 1, commit), wal.hardState());
        assertTrue(commit < wal.lastIndex() && commit >= wal.lastIndex() - 2 * Child.MAX_BATCH,
            "seed " + seed + ": commit " + commit + " with last index " + wal.lastIndex());
      }
    }
  }

  /** Saves random batches forever in the WAL directory args[0]; prints each save's last index. */
  public static final class Child {
    static final long SEGMENT_BYTES = 64 * 1024;
    static final int MAX_BATCH = 20;

    static Entry entry(long index) {
      byte[] data = new byte[(int) (index % 700)];
      new Random(index).nextBytes(data);
      return Entry.normal(1, index, data);
    }

    public static void main(String[] args) {
      Random rnd = new Random(Long.parseLong(args[1]));
      try (Wal wal = Wal.open(Path.of(args[0]), SEGMENT_BYTES)) {
        long next = 1;
        while (true) {
          List<Entry> batch = new ArrayList<>();
          int n = 1 + rnd.nextInt(MAX_BATCH);
          for (int i = 0; i < n; i++) {
            batch.add(entry(next++));
          }
          wal.save(new HardState(1, 1, next - 1 - n), batch);
          System.out.println(next - 1);
          System.out.flush();
        }
      }
    }
  }
}
