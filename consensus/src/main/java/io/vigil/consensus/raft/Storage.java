package io.vigil.consensus.raft;

import java.util.List;

/**
 * The durable log as the core reads it. The core only reads; the caller writes (persisting what
 * each {@link Ready} hands out) and compacts. Every read must reflect all writes the caller made
 * before its last {@link RawNode#advance}.
 *
 * <p>The log is {@code [firstIndex, lastIndex]}; the entry at {@code firstIndex - 1} was compacted
 * into {@link #snapshot()} but its term is still known. An empty log has
 * {@code lastIndex == firstIndex - 1}.
 */
public interface Storage {

  /** The persisted hard state and the configuration as of the latest snapshot. */
  InitialState initialState();

  /**
   * Entries in {@code [lo, hi)}, stopping before the total exceeds {@code maxSizeBytes} but
   * always returning at least one entry when {@code lo < hi}.
   *
   * @throws CompactedException if {@code lo < firstIndex()}
   * @throws IllegalArgumentException if {@code hi > lastIndex() + 1}
   */
  List<Entry> entries(long lo, long hi, long maxSizeBytes);

  /**
   * The term of the entry at {@code index}, for {@code firstIndex() - 1 <= index <= lastIndex()}.
   *
   * @throws CompactedException if {@code index < firstIndex() - 1}
   * @throws IllegalArgumentException if {@code index > lastIndex()}
   */
  long term(long index);

  long firstIndex();

  long lastIndex();

  /**
   * The most recent snapshot, or {@link Snapshot#EMPTY}. Compaction never passes it: its index is
   * at least {@code firstIndex() - 1}, so a follower that needs compacted entries can be sent it.
   */
  Snapshot snapshot();

  /** What a node restarts from. */
  record InitialState(HardState hardState, ConfState confState) {}
}
