package io.vigil.consensus.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The tail of the log not yet acknowledged as persisted: an optional incoming snapshot followed
 * by entries {@code [offset, offset + entries.size())}.
 *
 * <p>Invariants: if {@code snapshot != null} then {@code offset == snapshot.index() + 1};
 * entries are contiguous. Entries here shadow any entries of the storage at the same indexes.
 */
final class UnstableLog {
  private Snapshot snapshot;
  private final ArrayList<Entry> entries = new ArrayList<>();
  private long offset;

  UnstableLog(long offset) {
    this.offset = offset;
  }

  Snapshot snapshot() {
    return snapshot;
  }

  long offset() {
    return offset;
  }

  List<Entry> entries() {
    return List.copyOf(entries);
  }

  boolean hasEntries() {
    return !entries.isEmpty();
  }

  /** First index if an unpersisted snapshot decides it, else -1. */
  long maybeFirstIndex() {
    return snapshot != null ? snapshot.index() + 1 : -1;
  }

  /** Last index if known here, else -1. */
  long maybeLastIndex() {
    if (!entries.isEmpty()) {
      return offset + entries.size() - 1;
    }
    return snapshot != null ? snapshot.index() : -1;
  }

  /** Term at {@code index} if known here, else -1. */
  long maybeTerm(long index) {
    if (index < offset) {
      return snapshot != null && snapshot.index() == index ? snapshot.term() : -1;
    }
    long last = maybeLastIndex();
    if (last < 0 || index > last) {
      return -1;
    }
    return entries.get((int) (index - offset)).term();
  }

  /**
   * The caller persisted entries up to {@code index}. Ignored if the entry there has since been
   * replaced (its term differs), so a late acknowledgement never drops newer entries.
   */
  void stableTo(long index, long term) {
    if (index < offset || maybeTerm(index) != term) {
      return;
    }
    entries.subList(0, (int) (index - offset + 1)).clear();
    offset = index + 1;
  }

  void stableSnapTo(long index) {
    if (snapshot != null && snapshot.index() == index) {
      snapshot = null;
    }
  }

  void restore(Snapshot s) {
    snapshot = s;
    entries.clear();
    offset = s.index() + 1;
  }

  /** Appends, first truncating anything at or after the first new entry's index. */
  void truncateAndAppend(List<Entry> ents) {
    long after = ents.get(0).index();
    if (after == offset + entries.size()) {
      entries.addAll(ents);
    } else if (after <= offset) {
      // Replaces everything here; the storage's entries from `after` on are shadowed.
      offset = after;
      entries.clear();
      entries.addAll(ents);
    } else {
      entries.subList((int) (after - offset), entries.size()).clear();
      entries.addAll(ents);
    }
  }

  /** Entries {@code [lo, hi)}; the range must lie within this unstable tail. */
  List<Entry> slice(long lo, long hi) {
    if (lo < offset || hi > offset + entries.size() || lo > hi) {
      throw new IllegalStateException("unstable slice [" + lo + ", " + hi + ") out of ["
          + offset + ", " + (offset + entries.size()) + ")");
    }
    return new ArrayList<>(entries.subList((int) (lo - offset), (int) (hi - offset)));
  }
}
