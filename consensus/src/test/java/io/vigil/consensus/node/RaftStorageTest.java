package io.vigil.consensus.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.consensus.raft.ConfState;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.HardState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How much of the in-memory log {@link RaftStorage#release} keeps for the followers. */
class RaftStorageTest {
  private static final ConfState CONF = ConfState.ofVoters(1L, 2L, 3L);
  private static final long KEEP = 1_000;
  private static final long CATCH_UP = 100;
  private static final long LAST = 5_000;

  @TempDir
  Path dir;

  /** A log of entries 2..last (1 is the bootstrap snapshot), all applied; entry i has term 1 + i / 1000. */
  private RaftStorage logUpTo(long last) {
    RaftStorage storage = RaftStorage.open(dir, CONF, 1);
    List<Entry> entries = new ArrayList<>();
    for (long i = 2; i <= last; i++) {
      entries.add(Entry.normal(termOf(i), i, new byte[] {(byte) i}));
    }
    storage.save(new HardState(termOf(last), 0, last), entries, true);
    return storage;
  }

  private static long termOf(long index) {
    return 1 + index / 1000;
  }

  @Test
  void aFollowerKeepsTheWholeWindow() {
    try (RaftStorage storage = logUpTo(LAST)) {
      storage.release(LAST, CONF, KEEP, CATCH_UP, 0);
      assertEquals(LAST - KEEP + 1, storage.memory().firstIndex());
    }
  }

  @Test
  void aLeaderAloneKeepsOnlyTheCatchUpEntries() {
    try (RaftStorage storage = logUpTo(LAST)) {
      storage.release(LAST - 10, CONF, KEEP, CATCH_UP, Long.MAX_VALUE);
      assertEquals(LAST - 10 - CATCH_UP + 1, storage.memory().firstIndex(), "bounded by what is applied");
    }
  }

  @Test
  void aLeaderKeepsWhatItsSlowestFollowerStillNeedsUpToTheWindow() {
    try (RaftStorage storage = logUpTo(LAST)) {
      long match = LAST - 1_500;
      storage.release(LAST - 1_000, CONF, KEEP * 2, CATCH_UP, match);
      assertEquals(match - CATCH_UP + 1, storage.memory().firstIndex(), "the follower's match, less the catch-up entries");
      assertEquals(termOf(match - CATCH_UP), storage.memory().term(match - CATCH_UP), "the compaction point's term is kept");
      assertEquals(termOf(match), storage.memory().term(match), "what the follower's next append is checked against");

      storage.release(LAST, CONF, KEEP, CATCH_UP, 10);
      assertEquals(LAST - KEEP + 1, storage.memory().firstIndex(), "a follower far behind: the window bounds it");
    }
  }

  @Test
  void aLeaderThatStepsDownKeepsWhatItHadAndCompactsNoFurtherThanTheWindow() {
    try (RaftStorage storage = logUpTo(LAST)) {
      storage.release(LAST, CONF, KEEP * 2, CATCH_UP, LAST - 500);
      long first = LAST - 500 - CATCH_UP + 1;
      assertEquals(first, storage.memory().firstIndex());
      storage.release(LAST, CONF, KEEP * 2, CATCH_UP, 0);
      assertEquals(first, storage.memory().firstIndex(), "the window reaches below what is gone: nothing moves");
      assertEquals(LAST, storage.memory().lastIndex());
    }
  }
}
