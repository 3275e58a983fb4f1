package io.vigil.consensus.node;

import io.vigil.consensus.raft.ConfState;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.HardState;
import io.vigil.consensus.raft.MemoryStorage;
import io.vigil.consensus.raft.Snapshot;
import io.vigil.consensus.wal.Wal;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongFunction;

/**
 * A member's Raft log: the WAL is the durable copy, a {@link MemoryStorage} the copy the core
 * reads. Both are written by the node thread only, the WAL first (see {@link RaftNode}).
 *
 * <p>Layout on open. A new cluster starts from the bootstrap snapshot at index 1, term 1 (every
 * initial member the same, as {@link MemoryStorage#bootstrap} makes it), so the first real entry
 * is index 2. Once the state machine has made entries durable by itself, the WAL segments wholly
 * below them are deleted; then the first entry the WAL still holds stands in for the snapshot
 * (its index and term), because the state machine has applied it.
 *
 * <p>Invariant: {@code firstIndex - 1 <= storeApplied <= commit <= lastIndex}. The commit index
 * in the WAL may lag what the store applied (a commit-only change is not synced, etcd does the
 * same), so open raises it to the store's applied index: those entries were committed, or they
 * would not have been applied.
 */
public final class RaftStorage implements AutoCloseable {
  /** The index and term of the bootstrap snapshot every initial member starts from. */
  static final long BOOTSTRAP_INDEX = 1;

  private final Wal wal;
  private final MemoryStorage memory;

  private RaftStorage(Wal wal, MemoryStorage memory) {
    this.wal = wal;
    this.memory = memory;
  }

  /** Opens a log whose configuration never changed: {@code conf} at every index. */
  public static RaftStorage open(Path walDir, ConfState conf, long storeApplied) {
    return open(walDir, index -> conf, storeApplied);
  }

  /**
   * Opens the WAL in {@code walDir} and rebuilds the log from it.
   *
   * <p>The core starts from the configuration in effect at the commit index, because it hands
   * out only the entries after it (applied = commit on restart): the conf changes at or below it
   * are not applied again, so the snapshot the core reads must already include them. That
   * snapshot (the bootstrap one, or the first retained entry) is never sent to a peer.
   *
   * @param confAt the configuration in effect once every entry up to an index is applied
   * @param storeApplied the last index the state machine has durably applied
   */
  public static RaftStorage open(Path walDir, LongFunction<ConfState> confAt, long storeApplied) {
    Wal wal = Wal.open(walDir);
    try {
      List<Entry> entries = wal.entries();
      HardState saved = wal.hardState().isEmpty() ? new HardState(BOOTSTRAP_INDEX, 0, BOOTSTRAP_INDEX) : wal.hardState();
      long commit = Math.max(Math.max(saved.commit(), storeApplied), BOOTSTRAP_INDEX);
      ConfState conf = confAt.apply(commit);
      MemoryStorage memory;
      if (entries.isEmpty() || entries.get(0).index() == BOOTSTRAP_INDEX + 1) {
        memory = MemoryStorage.bootstrap(conf, null);
        memory.append(entries);
      } else if (entries.get(0).index() <= BOOTSTRAP_INDEX) {
        throw new IllegalStateException("the WAL in " + walDir + " starts at entry " + entries.get(0).index()
            + ": it was written by a Vigil before Raft replication; start from an empty --data-dir");
      } else {
        Entry first = entries.get(0);
        if (first.index() > storeApplied) {
          throw new IllegalStateException("the WAL in " + walDir + " starts at entry " + first.index()
              + " but the store has applied only up to " + storeApplied + ": WAL segments are missing");
        }
        memory = new MemoryStorage();
        memory.applySnapshot(new Snapshot(first.index(), first.term(), conf, null));
        memory.append(entries.subList(1, entries.size()));
      }
      if (storeApplied > memory.lastIndex()) {
        throw new IllegalStateException("the store has applied entries up to " + storeApplied
            + " but the WAL in " + walDir + " ends at " + memory.lastIndex() + ": WAL segments are missing");
      }
      memory.setHardState(new HardState(saved.term(), saved.vote(), commit));
      wal.dropRecoveredEntries();
      return new RaftStorage(wal, memory);
    } catch (RuntimeException e) {
      wal.close();
      throw e;
    }
  }

  /** From now on {@code nanos} is told how long each WAL sync took, on the node thread. */
  public void onWalSync(java.util.function.LongConsumer nanos) {
    wal.onSync(nanos);
  }

  /** What the core reads. */
  public MemoryStorage memory() {
    return memory;
  }

  /** The durable hard state the node restarts from (after open's commit adjustment). */
  public HardState hardState() {
    return memory.hardState();
  }

  /**
   * Persists a Ready's entries and hard state: durable when it returns if {@code mustSync}
   * (entries, or the term or vote changed). A commit-only change is written without a sync, as
   * etcd writes it: a process crash keeps it, so a restart applies every acknowledged entry
   * before it serves; a machine crash may lose it, and then the commit index is relearned from
   * the leader (or raised to the store's applied index on open).
   */
  void save(HardState state, List<Entry> entries, boolean mustSync) {
    wal.save(state, entries, mustSync);
    if (state != null) {
      memory.setHardState(state);
    }
    memory.append(entries);
  }

  /**
   * The state machine has durably applied up to {@code storeCommitted}: WAL segments wholly below
   * it may go, and the in-memory log keeps at most {@code keepEntries} entries below it for
   * followers that lag (older ones are no longer sent: a follower that far behind needs a
   * snapshot). Below {@code lowestPeerMatch} (the index every other member holds, known only to a
   * leader: {@link RawNode#lowestPeerMatch()}) no member needs entries from here any more, so
   * only {@code catchUpEntries} of them stay: a leader whose followers keep up, or a member
   * alone, holds a few thousand entries instead of {@code keepEntries}.
   */
  void release(long storeCommitted, ConfState conf, long keepEntries, long catchUpEntries, long lowestPeerMatch) {
    wal.releaseBefore(storeCommitted);
    long compactTo = Math.max(storeCommitted - keepEntries,
        Math.min(storeCommitted, lowestPeerMatch) - catchUpEntries);
    if (compactTo > memory.snapshot().index() && compactTo <= memory.lastIndex()) {
      memory.createSnapshot(compactTo, conf, null);
      memory.compact(compactTo);
    }
  }

  @Override
  public void close() {
    wal.close();
  }
}
