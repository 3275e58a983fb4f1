package io.vigil.consensus.raft;

import static io.vigil.consensus.raft.RaftTestUtil.entriesWithTerms;
import static io.vigil.consensus.raft.RaftTestUtil.storage;
import static io.vigil.consensus.raft.RaftTestUtil.terms;
import static io.vigil.consensus.raft.RaftTestUtil.voters;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link MemoryStorage}, {@link UnstableLog} and {@link RaftLog}. */
class LogAndStorageTest {

  @Test
  void memoryStorageAppendTruncatesConflictingSuffix() {
    MemoryStorage s = storage(voters(1), 1, 1, 1, 1);
    s.append(entriesWithTerms(3, 2, 2));
    assertEquals(4, s.lastIndex());
    assertEquals(2, s.term(3));
    assertEquals(2, s.term(4));
    s.append(entriesWithTerms(2, 3));
    assertEquals(2, s.lastIndex(), "everything after the first new entry is replaced");
    assertThrows(IllegalArgumentException.class, () -> s.append(entriesWithTerms(5, 3)),
        "no gaps");
  }

  @Test
  void memoryStorageCompactionKeepsTheBoundaryTerm() {
    MemoryStorage s = storage(voters(1), 1, 2, 3, 4, 5);
    s.createSnapshot(3, voters(1), "img".getBytes());
    s.compact(3);
    assertEquals(4, s.firstIndex());
    assertEquals(3, s.term(3), "the compacted boundary's term stays known");
    assertThrows(CompactedException.class, () -> s.term(2));
    assertThrows(CompactedException.class, () -> s.entries(3, 5, Long.MAX_VALUE));
    assertEquals(2, s.entries(4, 6, Long.MAX_VALUE).size());
    assertThrows(IllegalArgumentException.class, () -> s.compact(5), "never past the snapshot");
  }

  /**
   * Appends (some replacing a suffix) and compactions in random order, against a model that keeps
   * every entry: whatever the storage still holds reads back as the model has it. Compactions of
   * every size move the storage's head and sometimes shift its list down.
   */
  @Test
  void memoryStorageMatchesAModelUnderAppendsAndCompactions() {
    long seed = new java.util.Random().nextLong();
    System.out.println("memoryStorageMatchesAModelUnderAppendsAndCompactions seed " + seed);
    java.util.Random random = new java.util.Random(seed);
    MemoryStorage s = storage(voters(1));
    java.util.List<Long> modelTerms = new java.util.ArrayList<>(); // index i + 1's term
    long term = 1;
    for (int step = 0; step < 2000; step++) {
      long first = s.firstIndex();
      long last = s.lastIndex();
      if (random.nextInt(4) > 0 || last < first) {
        // append from a random point in what is held (or right after it), with a newer term
        long from = first + random.nextInt((int) (last - first + 2));
        term += random.nextInt(3) == 0 ? 1 : 0;
        long[] terms = new long[1 + random.nextInt(20)];
        java.util.Arrays.fill(terms, term);
        s.append(entriesWithTerms(from, terms));
        while (modelTerms.size() >= from) {
          modelTerms.remove(modelTerms.size() - 1);
        }
        for (long t : terms) {
          modelTerms.add(t);
        }
      } else {
        long to = first + random.nextInt((int) (last - first + 1));
        s.createSnapshot(to, voters(1), null);
        s.compact(to);
      }
      String at = " (seed " + seed + ", step " + step + ")";
      assertEquals(modelTerms.size(), s.lastIndex(), "last index" + at);
      List<Entry> held = s.entries(s.firstIndex(), s.lastIndex() + 1, Long.MAX_VALUE);
      assertEquals(s.lastIndex() - s.firstIndex() + 1, held.size(), "entries held" + at);
      for (Entry e : held) {
        assertEquals((long) modelTerms.get((int) e.index() - 1), e.term(), "term of " + e.index() + at);
        assertEquals(e.term(), s.term(e.index()), "term() of " + e.index() + at);
        assertArrayEquals(("e" + e.index()).getBytes(), e.data(), "data of " + e.index() + at);
      }
      if (s.firstIndex() > 1) {
        long boundary = s.firstIndex() - 1;
        assertEquals((long) modelTerms.get((int) boundary - 1), s.term(boundary), "boundary term" + at);
        assertThrows(CompactedException.class, () -> s.term(boundary - 1), "below the boundary" + at);
      }
    }
  }

  @Test
  void memoryStorageEntriesRespectsSizeButReturnsAtLeastOne() {
    MemoryStorage s = storage(voters(1), 1, 1, 1);
    long one = s.entries(1, 2, Long.MAX_VALUE).get(0).sizeBytes();
    assertEquals(1, s.entries(1, 4, 0).size());
    assertEquals(2, s.entries(1, 4, 2 * one).size());
    assertEquals(3, s.entries(1, 4, 3 * one).size());
  }

  @Test
  void memoryStorageApplySnapshotReplacesTheLog() {
    MemoryStorage s = storage(voters(1), 1, 1);
    s.applySnapshot(new Snapshot(10, 4, voters(1, 2), null));
    assertEquals(11, s.firstIndex());
    assertEquals(10, s.lastIndex());
    assertEquals(4, s.term(10));
    assertEquals(voters(1, 2), s.initialState().confState());
    assertThrows(IllegalStateException.class,
        () -> s.applySnapshot(new Snapshot(9, 4, voters(1), null)));
  }

  @Test
  void unstableAcknowledgementIgnoresReplacedEntries() {
    UnstableLog u = new UnstableLog(1);
    u.truncateAndAppend(entriesWithTerms(1, 1, 1, 1));
    u.truncateAndAppend(entriesWithTerms(2, 2)); // replaces 2..3
    u.stableTo(3, 1); // a late ack of the old entry 3: must not drop anything
    assertEquals(1, u.offset());
    u.stableTo(2, 2);
    assertEquals(3, u.offset());
    assertFalse(u.hasEntries());
  }

  @Test
  void raftLogTermSpansStorageAndUnstable() {
    MemoryStorage s = storage(voters(1), 1, 1);
    RaftLog log = new RaftLog(s, Long.MAX_VALUE);
    log.append(entriesWithTerms(3, 2, 2));
    assertEquals(4, log.lastIndex());
    assertEquals(1, log.term(2));
    assertEquals(2, log.term(4));
    assertEquals(0, log.term(5), "beyond the end");
    assertArrayEquals(new long[] {1, 1, 2, 2}, terms(log.entriesFrom(1, Long.MAX_VALUE)));
    assertEquals(List.of(3L, 4L), log.unstableEntries().stream().map(Entry::index).toList());
  }

  @Test
  void maybeAppendFindsConflictsAndNeverTouchesCommittedEntries() {
    MemoryStorage s = storage(voters(1), 1, 2, 3);
    RaftLog log = new RaftLog(s, Long.MAX_VALUE);
    assertEquals(-1, log.maybeAppend(3, 2, 3, List.of()), "prev term mismatch");
    assertEquals(0, log.findConflict(entriesWithTerms(1, 1, 2)));
    assertEquals(3, log.findConflict(entriesWithTerms(2, 2, 4)));
    assertEquals(4, log.findConflict(entriesWithTerms(3, 3, 4)));
    assertEquals(4, log.maybeAppend(2, 2, 4, entriesWithTerms(3, 4, 4)));
    assertArrayEquals(new long[] {1, 2, 4, 4}, terms(log.entriesFrom(1, Long.MAX_VALUE)));
    assertEquals(4, log.committed);
    assertThrows(IllegalStateException.class,
        () -> log.maybeAppend(1, 1, 4, entriesWithTerms(2, 9)));
  }

  @Test
  void findConflictByTermSkipsWholeTerms() {
    RaftLog log = new RaftLog(storage(voters(1), 1, 1, 1, 4, 4, 5, 5, 6, 6, 6), Long.MAX_VALUE);
    assertEquals(10, log.findConflictByTerm(10, 6));
    assertEquals(5, log.findConflictByTerm(10, 4), "last index with term <= 4");
    assertEquals(3, log.findConflictByTerm(10, 3));
    assertEquals(0, log.findConflictByTerm(10, 0));
  }

  @Test
  void upToDateComparesLastTermThenLength() {
    RaftLog log = new RaftLog(storage(voters(1), 1, 2, 2), Long.MAX_VALUE);
    assertTrue(log.isUpToDate(3, 2));
    assertTrue(log.isUpToDate(1, 3));
    assertFalse(log.isUpToDate(2, 2));
    assertFalse(log.isUpToDate(5, 1));
  }

  @Test
  void commitNeverMovesBackwardsNorBeyondTheLog() {
    RaftLog log = new RaftLog(storage(voters(1), 1, 1, 1), Long.MAX_VALUE);
    log.commitTo(2);
    log.commitTo(1);
    assertEquals(2, log.committed);
    assertThrows(IllegalStateException.class, () -> log.commitTo(4));
    assertFalse(log.maybeCommit(3, 2), "§5.4.2: not an entry of the leader's term");
    assertTrue(log.maybeCommit(3, 1));
  }

  @Test
  void committedEntriesAreHandedOutInSizeLimitedBatches() {
    MemoryStorage s = storage(voters(1), 1, 1, 1, 1);
    long one = s.entries(1, 2, Long.MAX_VALUE).get(0).sizeBytes();
    RaftLog log = new RaftLog(s, 2 * one);
    log.commitTo(4);
    assertEquals(2, log.nextCommittedEntries().size());
    log.appliedTo(2);
    assertEquals(List.of(3L, 4L), log.nextCommittedEntries().stream().map(Entry::index).toList());
    log.appliedTo(4);
    assertFalse(log.hasNextCommittedEntries());
  }

  @Test
  void inflightsRingWrapsAndFreesInOrder() {
    Inflights in = new Inflights(3, Long.MAX_VALUE);
    for (long i = 1; i <= 3; i++) {
      in.add(i * 10, 1);
    }
    assertTrue(in.full());
    in.freeLE(15);
    assertEquals(2, in.count());
    in.add(40, 1);
    in.freeLE(30);
    assertEquals(1, in.count());
    in.freeFirstOne();
    assertEquals(0, in.count());
    assertEquals(0, in.bytes());
  }
}
