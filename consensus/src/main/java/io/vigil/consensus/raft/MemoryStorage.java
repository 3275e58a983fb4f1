package io.vigil.consensus.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory {@link Storage}, for tests and as the reference for durable implementations.
 * Not thread-safe: the core is single-threaded and so is everything that drives it.
 *
 * <p>Layout: {@code offset} and {@code offsetTerm} are the index and term of the last compacted
 * entry (the snapshot's, or 0/0); the real entries after it are held packed ({@link PackedEntries}),
 * so {@link #entries} returns new {@link Entry} objects equal in content to those appended, not
 * the same ones. Compaction drops from the front at the cost of what it drops, not of what it keeps
 * (a follower keeps up to --snapshot-count entries; a leader, the catch-up entries below what
 * its followers hold).
 */
public final class MemoryStorage implements Storage {
  private HardState hardState = HardState.EMPTY;
  private Snapshot snapshot = Snapshot.EMPTY;
  private final PackedEntries entries = new PackedEntries();
  private long offset;
  private long offsetTerm;

  public MemoryStorage() {
  }

  /**
   * A storage for a member of a brand-new cluster: a snapshot at index 1, term 1 holding the
   * initial configuration and the application's initial image. Every initial member must start
   * from the same bootstrap; nodes added later start from an empty {@code new MemoryStorage()}
   * and receive this (or a later) snapshot from the leader.
   */
  public static MemoryStorage bootstrap(ConfState initial, byte[] initialData) {
    MemoryStorage s = new MemoryStorage();
    s.applySnapshot(new Snapshot(1, 1, initial, initialData));
    s.setHardState(new HardState(1, 0, 1));
    return s;
  }

  /**
   * Test seam: an empty log (index 0) whose configuration is {@code cs}, without a snapshot, so
   * that spec tests can use the paper's indexes starting at 1.
   */
  static MemoryStorage withConfiguration(ConfState cs) {
    MemoryStorage s = new MemoryStorage();
    s.snapshot = new Snapshot(0, 0, cs, null);
    return s;
  }

  @Override
  public InitialState initialState() {
    return new InitialState(hardState, snapshot.confState());
  }

  public HardState hardState() {
    return hardState;
  }

  public void setHardState(HardState hs) {
    hardState = hs;
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxSizeBytes) {
    if (lo <= offset) {
      throw new CompactedException(lo, offset + 1);
    }
    if (hi > lastIndex() + 1) {
      throw new IllegalArgumentException("entries [" + lo + ", " + hi + ") beyond last index "
          + lastIndex());
    }
    List<Entry> out = new ArrayList<>();
    long bytes = 0;
    for (long i = lo; i < hi; i++) {
      int at = (int) (i - offset - 1);
      bytes += entries.sizeBytes(at);
      if (!out.isEmpty() && bytes > maxSizeBytes) {
        break;
      }
      out.add(entries.get(at, i));
    }
    return out;
  }

  @Override
  public long term(long index) {
    if (index < offset) {
      throw new CompactedException(index, offset + 1);
    }
    if (index > lastIndex()) {
      throw new IllegalArgumentException("index " + index + " beyond last index " + lastIndex());
    }
    return index == offset ? offsetTerm : entries.term((int) (index - offset - 1));
  }

  @Override
  public long firstIndex() {
    return offset + 1;
  }

  @Override
  public long lastIndex() {
    return offset + entries.size();
  }

  @Override
  public Snapshot snapshot() {
    return snapshot;
  }

  /** Replaces the whole log with {@code snap} (a follower installing a leader's snapshot). */
  public void applySnapshot(Snapshot snap) {
    if (snap.index() <= snapshot.index()) {
      throw new IllegalStateException("snapshot " + snap.index() + " is not newer than "
          + snapshot.index());
    }
    snapshot = snap;
    entries.clear();
    offset = snap.index();
    offsetTerm = snap.term();
  }

  /**
   * Records a snapshot the application took at {@code index} (which it has applied) without
   * discarding entries; follow with {@link #compact}.
   */
  public Snapshot createSnapshot(long index, ConfState confState, byte[] data) {
    if (index <= snapshot.index()) {
      throw new IllegalStateException("snapshot " + index + " is not newer than "
          + snapshot.index());
    }
    if (index > lastIndex()) {
      throw new IllegalArgumentException("snapshot index " + index + " beyond last index "
          + lastIndex());
    }
    snapshot = new Snapshot(index, term(index), confState, data);
    return snapshot;
  }

  /**
   * Discards entries up to and including {@code compactIndex}. Entries up to it stay readable
   * through the snapshot only, so {@code compactIndex} must not exceed the snapshot's index.
   */
  public void compact(long compactIndex) {
    if (compactIndex <= offset) {
      return;
    }
    if (compactIndex > snapshot.index()) {
      throw new IllegalArgumentException("compact index " + compactIndex
          + " beyond snapshot index " + snapshot.index());
    }
    long newTerm = term(compactIndex);
    entries.dropFirst((int) (compactIndex - offset));
    offset = compactIndex;
    offsetTerm = newTerm;
  }

  /**
   * Appends entries handed out by a {@link Ready}; entries from the first new index on replace
   * whatever the log held there (a follower overwriting an uncommitted conflicting suffix).
   */
  public void append(List<Entry> newEntries) {
    if (newEntries.isEmpty()) {
      return;
    }
    long first = newEntries.get(0).index();
    if (first + newEntries.size() - 1 <= offset) {
      return; // entirely compacted already
    }
    int skip = (int) Math.max(0, offset + 1 - first);
    first += skip;
    if (first > lastIndex() + 1) {
      throw new IllegalArgumentException("gap: appending at " + first + " after last index "
          + lastIndex());
    }
    entries.truncate((int) (first - offset - 1));
    for (Entry e : newEntries.subList(skip, newEntries.size())) {
      entries.add(e);
    }
  }
}
