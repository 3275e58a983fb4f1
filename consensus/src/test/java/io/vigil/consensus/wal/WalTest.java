package io.vigil.consensus.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.EntryType;
import io.vigil.consensus.raft.HardState;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL against what was saved: reopen, Raft's log rewrite, segment cuts and release, torn tails
 * cut at every byte (more torn writes in {@link WalTornWriteTest}), corruption refused, and a
 * seeded model test of random saves, rewrites, releases and reopens ({@code -Dvigil.wal.seed=N}
 * replays one seed).
 */
class WalTest {
  @TempDir
  Path dir;

  @Test
  void reopenGivesBackEntriesAndHardState() {
    try (Wal wal = Wal.open(dir)) {
      wal.save(new HardState(1, 1, 0), List.of(entry(1, 1), entry(1, 2)));
      wal.save(new HardState(1, 1, 2), List.of(entry(1, 3)));
      wal.save(null, List.of());
      assertEquals(3, wal.lastIndex());
    }
    try (Wal wal = Wal.open(dir)) {
      assertEquals(new HardState(1, 1, 2), wal.hardState());
      assertEntries(List.of(entry(1, 1), entry(1, 2), entry(1, 3)), wal.entries());
      assertEquals(3, wal.lastIndex());
      wal.save(null, List.of(entry(2, 4)));
    }
    try (Wal wal = Wal.open(dir)) {
      assertEquals(4, wal.lastIndex());
      assertEquals(4, wal.entries().size());
    }
  }

  /** A commit-only hard state is written without a sync; a process that dies keeps it (the OS has it). */
  @Test
  void anUnsyncedHardStateIsReadBackAfterTheWriterGoes() {
    try (Wal wal = Wal.open(dir)) {
      wal.save(new HardState(2, 1, 1), List.of(entry(2, 1), entry(2, 2)));
      wal.save(new HardState(2, 1, 2), List.of(), false);
    }
    try (Wal wal = Wal.open(dir)) {
      assertEquals(new HardState(2, 1, 2), wal.hardState());
      assertEquals(2, wal.lastIndex());
    }
  }

  @Test
  void aGapIsRefusedAndTheLogStaysReadable() {
    try (Wal wal = Wal.open(dir)) {
      wal.save(null, List.of(entry(1, 5), entry(1, 6)));
      assertThrows(IllegalArgumentException.class, () -> wal.save(null, List.of(entry(1, 8))));
      assertThrows(IllegalArgumentException.class, () -> wal.save(null, List.of(entry(1, 7), entry(1, 9))));
    }
    try (Wal wal = Wal.open(dir)) {
      assertEntries(List.of(entry(1, 5), entry(1, 6)), wal.entries());
    }
  }

  @Test
  void afterAFailedWriteNothingMoreIsAppended() {
    Wal wal = Wal.open(dir);
    wal.save(null, List.of(entry(1, 1)));
    wal.close(); // the channel is gone: the next write fails like a dying disk would
    assertThrows(java.io.UncheckedIOException.class, () -> wal.save(null, List.of(entry(1, 2))));
    assertThrows(IllegalStateException.class, () -> wal.save(null, List.of(entry(1, 2))));
    try (Wal reopened = Wal.open(dir)) {
      assertEntries(List.of(entry(1, 1)), reopened.entries());
    }
  }

  @Test
  void aRewrittenSuffixReplacesTheOldOne() {
    try (Wal wal = Wal.open(dir)) {
      wal.save(new HardState(1, 1, 1), List.of(entry(1, 1), entry(1, 2), entry(1, 3), entry(1, 4)));
      wal.save(new HardState(2, 2, 1), List.of(entry(2, 3)));
      assertEquals(3, wal.lastIndex());
    }
    try (Wal wal = Wal.open(dir)) {
      assertEntries(List.of(entry(1, 1), entry(1, 2), entry(2, 3)), wal.entries());
      assertEquals(new HardState(2, 2, 1), wal.hardState());
    }
  }

  @Test
  void segmentsAreCutAndReleasedWithoutLosingTheHardState() throws IOException {
    try (Wal wal = Wal.open(dir, 4096)) {
      for (long i = 1; i <= 1000; i++) {
        wal.save(new HardState(1, 1, i - 1), List.of(entry(1, i)));
      }
      assertTrue(segments().size() > 10, "segments: " + segments());
      wal.releaseBefore(750);
    }
    List<Path> left = segments();
    try (Wal wal = Wal.open(dir, 4096)) {
      List<Entry> entries = wal.entries();
      assertTrue(entries.get(0).index() <= 750, "first kept entry " + entries.get(0).index());
      assertTrue(entries.get(0).index() > 500, "old segments were not released: " + left);
      assertEquals(1000, entries.get(entries.size() - 1).index());
      assertEquals(new HardState(1, 1, 999), wal.hardState());
      for (int i = 1; i < entries.size(); i++) {
        assertEquals(entries.get(i - 1).index() + 1, entries.get(i).index());
      }
    }
  }

  @Test
  void aTornTailIsCutAtAnyByteAndTheLogGoesOn() throws IOException {
    List<List<Entry>> saves = new ArrayList<>();
    try (Wal wal = Wal.open(dir)) {
      for (long i = 1; i <= 6; i++) {
        List<Entry> batch = List.of(entry(1, 2 * i - 1), entry(1, 2 * i));
        wal.save(new HardState(1, 1, 2 * i - 2), batch);
        saves.add(batch);
      }
    }
    Path segment = segments().get(0);
    byte[] whole = Files.readAllBytes(segment);
    for (int cut = 0; cut <= whole.length; cut++) {
      // a disk writes a sector whole or not at all: zeros may start only at a sector's start
      for (boolean zeroFilled : cut % WalRecords.SECTOR == 0 ? new boolean[] {false, true} : new boolean[] {false}) {
        byte[] torn = new byte[zeroFilled ? whole.length : cut];
        System.arraycopy(whole, 0, torn, 0, cut);
        Files.write(segment, torn);
        long recovered;
        try (Wal wal = Wal.open(dir)) {
          List<Entry> entries = wal.entries();
          recovered = wal.lastIndex();
          // whole saves only, so a prefix of the saves, entries and hard state together
          for (int i = 0; i < entries.size(); i++) {
            assertEntry(entry(1, i + 1), entries.get(i));
          }
          assertEquals(0, recovered % 2, "cut at " + cut);
          assertEquals(recovered == 0 ? HardState.EMPTY : new HardState(1, 1, recovered - 2), wal.hardState(), "cut at " + cut);
          wal.save(null, List.of(entry(3, recovered + 1)));
        }
        try (Wal wal = Wal.open(dir)) {
          assertEquals(recovered + 1, wal.lastIndex(), "cut at " + cut);
        }
      }
    }
    Files.write(segment, whole);
    try (Wal wal = Wal.open(dir)) {
      assertEquals(12, wal.lastIndex());
    }
  }

  /**
   * A crash leaves the tail segment zero-filled past its last record (preallocation): the open
   * reads every record and takes the zeros as the end. A clean close leaves no zeros behind.
   */
  @Test
  void zerosPreallocatedPastTheLastRecordEndTheLog(@TempDir Path copy) throws IOException {
    try (Wal wal = Wal.open(dir, 64 << 10)) {
      for (long i = 1; i <= 400; i++) {
        wal.save(new HardState(1, 1, i - 1), List.of(entry(1, i)));
      }
      List<Path> segs = segments();
      Path tail = segs.get(segs.size() - 1);
      assertTrue(Files.size(tail) >= Wal.PREALLOCATE_MIN_BYTES, "the tail is preallocated");
      for (Path p : segs) {
        Files.copy(p, copy.resolve(p.getFileName()));
      }
    }
    try (Wal crashed = Wal.open(copy, 64 << 10)) {
      assertEquals(400, crashed.lastIndex());
      assertEquals(new HardState(1, 1, 399), crashed.hardState());
      crashed.save(null, List.of(entry(1, 401)));
    }
    try (Wal reopened = Wal.open(copy, 64 << 10)) {
      assertEquals(401, reopened.lastIndex());
    }
    // segments are cut just past 64 KiB, where preallocation would have reached 128 KiB
    for (Path p : segments()) {
      assertTrue(Files.size(p) < (64 << 10) + 4096, p.getFileName() + " kept its preallocated zeros: " + Files.size(p));
    }
  }

  @Test
  void corruptionIsRefusedNotCutOff() throws IOException {
    try (Wal wal = Wal.open(dir, 4096)) {
      for (long i = 1; i <= 300; i++) {
        wal.save(null, List.of(entry(1, i)));
      }
    }
    List<Path> segs = segments();
    assertTrue(segs.size() >= 3);
    // a flipped byte in the middle of the last segment, with good records after it
    Path last = segs.get(segs.size() - 1);
    flip(last, 20);
    assertThrows(WalCorruptException.class, () -> Wal.open(dir, 4096));
    flip(last, 20);
    // a torn tail in a segment that is not the last
    Path first = segs.get(0);
    byte[] b = Files.readAllBytes(first);
    Files.write(first, java.util.Arrays.copyOf(b, b.length - 3));
    assertThrows(WalCorruptException.class, () -> Wal.open(dir, 4096));
    Files.write(first, b);
    // a missing segment in the middle
    Files.delete(segs.get(1));
    assertThrows(WalCorruptException.class, () -> Wal.open(dir, 4096));
  }

  @Test
  void randomSavesRewritesReleasesAndReopensMatchAModel() {
    String one = System.getProperty("vigil.wal.seed");
    long[] seeds = one != null ? new long[] {Long.parseLong(one)} : new Random().longs(20).toArray();
    for (long seed : seeds) {
      Path d = dir.resolve("seed-" + Long.toUnsignedString(seed));
      try {
        runModel(d, seed);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("WAL model test failed with -Dvigil.wal.seed=" + seed, e);
      }
    }
  }

  /** The model: every entry ever saved at each index (the latest wins), the last hard state. */
  private static void runModel(Path d, long seed) {
    Random rnd = new Random(seed);
    List<Entry> model = new ArrayList<>();
    HardState state = HardState.EMPTY;
    long released = 0;
    long term = 1;
    Wal wal = Wal.open(d, 4096 + rnd.nextInt(8192));
    try {
      for (int step = 0; step < 400; step++) {
        int op = rnd.nextInt(20);
        if (op == 0) {
          wal.close();
          wal = Wal.open(d, 4096 + rnd.nextInt(8192));
          check(wal, model, state, released);
        } else if (op == 1 && !model.isEmpty()) {
          released = Math.max(released, 1 + rnd.nextInt(model.size()));
          wal.releaseBefore(released);
        } else {
          long from = model.size() + 1;
          if (op == 2 && model.size() > released + 1) {
            // a new leader rewrites an uncommitted (unreleased) suffix
            from = released + 1 + rnd.nextInt((int) (model.size() - released));
            term++;
          }
          List<Entry> batch = new ArrayList<>();
          int n = rnd.nextInt(8);
          for (int i = 0; i < n; i++) {
            byte[] data = new byte[rnd.nextInt(600)];
            rnd.nextBytes(data);
            batch.add(new Entry(term, from + i, rnd.nextInt(10) == 0 ? EntryType.CONF_CHANGE : EntryType.NORMAL, data));
          }
          HardState s = rnd.nextBoolean() ? new HardState(term, rnd.nextInt(3), Math.min(released, from - 1)) : null;
          wal.save(s, batch);
          if (!batch.isEmpty()) {
            model.subList((int) from - 1, model.size()).clear();
            model.addAll(batch);
          }
          if (s != null) {
            state = s;
          }
        }
      }
      wal.close();
      wal = Wal.open(d);
      check(wal, model, state, released);
    } finally {
      wal.close();
    }
  }

  private static void check(Wal wal, List<Entry> model, HardState state, long released) {
    assertEquals(state, wal.hardState());
    List<Entry> got = wal.entries();
    long last = model.isEmpty() ? 0 : model.size();
    assertEquals(last, wal.lastIndex());
    if (model.isEmpty()) {
      assertTrue(got.isEmpty());
      return;
    }
    long first = got.get(0).index();
    assertTrue(first <= Math.max(1, released), "entries from " + first + " but released only before " + released);
    assertEquals(model.size() - first + 1, got.size());
    for (Entry e : got) {
      assertEntry(model.get((int) e.index() - 1), e);
    }
  }

  // ---- helpers ----

  static Entry entry(long term, long index) {
    return Entry.normal(term, index, ("entry " + index + " of term " + term).getBytes());
  }

  private static void assertEntries(List<Entry> want, List<Entry> got) {
    assertEquals(want.size(), got.size(), "entries: " + got);
    for (int i = 0; i < want.size(); i++) {
      assertEntry(want.get(i), got.get(i));
    }
  }

  static void assertEntry(Entry want, Entry got) {
    assertEquals(want.term(), got.term(), "term of " + want.index());
    assertEquals(want.index(), got.index());
    assertEquals(want.type(), got.type());
    assertArrayEquals(want.data(), got.data(), "data of " + want.index());
  }

  private List<Path> segments() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".wal")).sorted().toList();
    }
  }

  private static void flip(Path file, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
      ch.read(one, offset);
      one.flip();
      one.put(0, (byte) (one.get(0) ^ 0x40));
      ch.write(one, offset);
    }
  }
}
