package io.vigil.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link MemoryStorage} over {@link PackedEntries} against a plain list of the entries appended:
 * random appends (overwriting suffixes as a follower does), compactions and a snapshot install,
 * with data sizes from empty to a third of a chunk so that entries straddle chunk boundaries and
 * chunks are dropped, reused and allocated again. Every read must give back the same content.
 */
class PackedEntriesTest {
  private static final int ROUNDS = 3000;

  @Test
  void readsGiveBackWhatWasAppendedThroughCompactionsOverwritesAndSnapshots() {
    for (long seed = 1; seed <= 8; seed++) {
      run(seed);
    }
  }

  private static void run(long seed) {
    String replay = "seed " + seed + " (PackedEntriesTest.run)";
    Random random = new Random(seed);
    MemoryStorage storage = new MemoryStorage();
    List<Entry> model = new ArrayList<>(); // model.get(i) has index offset + 1 + i
    long offset = 0;
    long offsetTerm = 0;
    long term = 1;
    for (int round = 0; round < ROUNDS; round++) {
      int op = random.nextInt(20);
      long last = offset + model.size();
      if (op < 14) {
        // append, sometimes from an earlier index (a conflicting suffix) and in a newer term
        long from = last + 1;
        if (op < 3 && !model.isEmpty()) {
          from = offset + 1 + random.nextInt(model.size());
          term++;
        }
        List<Entry> batch = new ArrayList<>();
        int n = 1 + random.nextInt(8);
        for (int i = 0; i < n; i++) {
          batch.add(new Entry(term, from + i, random.nextInt(10) == 0 ? EntryType.CONF_CHANGE : EntryType.NORMAL,
              data(random)));
        }
        storage.append(batch);
        while (offset + model.size() >= from) {
          model.remove(model.size() - 1);
        }
        model.addAll(batch);
      } else if (op < 18 && !model.isEmpty()) {
        long to = offset + 1 + random.nextInt(model.size());
        storage.createSnapshot(to, ConfState.EMPTY, null);
        storage.compact(to);
        int drop = (int) (to - offset);
        offsetTerm = model.get(drop - 1).term();
        model.subList(0, drop).clear();
        offset = to;
      } else if (op == 18) {
        long at = last + 1 + random.nextInt(5);
        storage.applySnapshot(new Snapshot(at, term, ConfState.EMPTY, null));
        model.clear();
        offset = at;
        offsetTerm = term;
      }
      check(storage, model, offset, offsetTerm, random, replay + ", round " + round);
    }
  }

  private static byte[] data(Random random) {
    int kind = random.nextInt(10);
    int size = kind == 0 ? 0 : kind < 8 ? random.nextInt(400) : random.nextInt(PackedEntries.CHUNK_BYTES / 3);
    byte[] d = new byte[size];
    random.nextBytes(d);
    return d;
  }

  private static void check(MemoryStorage storage, List<Entry> model, long offset, long offsetTerm, Random random,
      String where) {
    assertEquals(offset + 1, storage.firstIndex(), where);
    assertEquals(offset + model.size(), storage.lastIndex(), where);
    assertEquals(offsetTerm, storage.term(offset), where);
    if (model.isEmpty()) {
      return;
    }
    int lo = random.nextInt(model.size());
    int hi = lo + 1 + random.nextInt(model.size() - lo);
    List<Entry> got = storage.entries(offset + 1 + lo, offset + 1 + hi, Long.MAX_VALUE);
    assertEquals(hi - lo, got.size(), where);
    for (int i = 0; i < got.size(); i++) {
      Entry want = model.get(lo + i);
      Entry e = got.get(i);
      assertEquals(want.index(), e.index(), where);
      assertEquals(want.term(), e.term(), where);
      assertEquals(want.type(), e.type(), where);
      assertArrayEquals(want.data(), e.data(), where + ", entry " + want.index());
      assertEquals(want.term(), storage.term(want.index()), where);
    }
    long limit = model.get(lo).sizeBytes() + random.nextInt(2000);
    long bytes = 0;
    int fit = 0;
    for (int i = lo; i < hi && (fit == 0 || bytes + model.get(i).sizeBytes() <= limit); i++) {
      bytes += model.get(i).sizeBytes();
      fit++;
    }
    assertEquals(fit, storage.entries(offset + 1 + lo, offset + 1 + hi, limit).size(), where + ", size limit");
  }
}
