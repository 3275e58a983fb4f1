package io.vigil.consensus.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The node's view of the log: the persisted {@link Storage} followed by the {@link UnstableLog}.
 *
 * <p>Invariants: {@code firstIndex() - 1 <= applied <= committed <= lastIndex()}; entries up to
 * {@code committed} never change.
 */
final class RaftLog {
  private final Storage storage;
  private final UnstableLog unstable;
  private final long maxApplyBytes;
  /** Highest index known to be stored on a quorum. */
  long committed;
  /** Highest index handed to the application (acknowledged through advance). */
  long applied;

  RaftLog(Storage storage, long maxApplyBytes) {
    this.storage = storage;
    this.maxApplyBytes = maxApplyBytes;
    long first = storage.firstIndex();
    this.unstable = new UnstableLog(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  long firstIndex() {
    long i = unstable.maybeFirstIndex();
    return i >= 0 ? i : storage.firstIndex();
  }

  long lastIndex() {
    long i = unstable.maybeLastIndex();
    return i >= 0 ? i : storage.lastIndex();
  }

  long lastTerm() {
    return term(lastIndex());
  }

  /**
   * The term at {@code index}; 0 beyond the last index.
   *
   * @throws CompactedException below {@code firstIndex() - 1}
   */
  long term(long index) {
    long dummy = firstIndex() - 1;
    if (index < dummy) {
      throw new CompactedException(index, dummy + 1);
    }
    if (index > lastIndex()) {
      return 0;
    }
    long t = unstable.maybeTerm(index);
    return t >= 0 ? t : storage.term(index);
  }

  /** Whether the entry at {@code index} has {@code term}; false if unknown or compacted. */
  boolean matchTerm(long index, long term) {
    if (index < firstIndex() - 1 || index > lastIndex()) {
      return false;
    }
    return term(index) == term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  boolean isUpToDate(long candidateLastIndex, long candidateLastTerm) {
    long lastTerm = lastTerm();
    return candidateLastTerm > lastTerm
        || (candidateLastTerm == lastTerm && candidateLastIndex >= lastIndex());
  }

  /**
   * Follower side of AppendEntries: if our entry at {@code prevIndex} has {@code prevTerm},
   * appends {@code ents} (dropping any conflicting suffix), advances commit to
   * {@code min(leaderCommit, last new index)} and returns the last new index; else returns -1.
   */
  long maybeAppend(long prevIndex, long prevTerm, long leaderCommit, List<Entry> ents) {
    if (!matchTerm(prevIndex, prevTerm)) {
      return -1;
    }
    long lastNew = prevIndex + ents.size();
    long conflict = findConflict(ents);
    if (conflict != 0) {
      if (conflict <= committed) {
        throw new IllegalStateException("entry " + conflict + " conflicts with committed entry"
            + " (committed " + committed + ")");
      }
      append(ents.subList((int) (conflict - (prevIndex + 1)), ents.size()));
    }
    commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /**
   * The index of the first entry of {@code ents} that is new or whose term differs from ours,
   * or 0 if we already hold all of them.
   */
  long findConflict(List<Entry> ents) {
    boolean keepConflicts = Mutation.on(Mutation.KEEP_CONFLICTING_ENTRIES);
    for (Entry e : ents) {
      if (keepConflicts ? e.index() > lastIndex() : !matchTerm(e.index(), e.term())) {
        return e.index();
      }
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index {@code <= index} whose term is {@code <= term}, or the
   * first known index if every known entry up to there has a larger term. With the term of the
   * other side's log at the probe index, this skips a whole divergent term per round trip.
   */
  long findConflictByTerm(long index, long term) {
    long first = firstIndex() - 1;
    long i = Math.min(index, lastIndex());
    while (i > first && term(i) > term) {
      i--;
    }
    return i;
  }

  /** Appends after truncating at the first entry's index; returns the new last index. */
  long append(List<Entry> ents) {
    if (ents.isEmpty()) {
      return lastIndex();
    }
    long after = ents.get(0).index() - 1;
    if (after < committed) {
      throw new IllegalStateException("append after " + after + " would overwrite committed "
          + committed);
    }
    unstable.truncateAndAppend(ents);
    return lastIndex();
  }

  /**
   * Entries {@code [lo, lastIndex]} limited to {@code maxSizeBytes} (at least one if any).
   *
   * @throws CompactedException if {@code lo < firstIndex()}
   */
  List<Entry> entriesFrom(long lo, long maxSizeBytes) {
    long last = lastIndex();
    if (lo > last) {
      return List.of();
    }
    return slice(lo, last + 1, maxSizeBytes);
  }

  List<Entry> slice(long lo, long hi, long maxSizeBytes) {
    if (lo < firstIndex()) {
      throw new CompactedException(lo, firstIndex());
    }
    if (hi > lastIndex() + 1 || lo > hi) {
      throw new IllegalArgumentException("slice [" + lo + ", " + hi + ") out of bounds, last "
          + lastIndex());
    }
    List<Entry> out = new ArrayList<>();
    if (lo == hi) {
      return out;
    }
    long unstableFrom = unstable.offset();
    if (lo < unstableFrom) {
      out.addAll(storage.entries(lo, Math.min(hi, unstableFrom), maxSizeBytes));
      if (out.size() < Math.min(hi, unstableFrom) - lo) {
        return out; // size limit reached inside the stable part
      }
    }
    if (hi > unstableFrom) {
      out.addAll(unstable.slice(Math.max(lo, unstableFrom), hi));
    }
    return limitSize(out, maxSizeBytes);
  }

  private static List<Entry> limitSize(List<Entry> ents, long maxSizeBytes) {
    long bytes = 0;
    for (int i = 0; i < ents.size(); i++) {
      bytes += ents.get(i).sizeBytes();
      if (i > 0 && bytes > maxSizeBytes) {
        return new ArrayList<>(ents.subList(0, i));
      }
    }
    return ents;
  }

  void commitTo(long index) {
    if (index <= committed) {
      return; // commit never goes backwards
    }
    if (index > lastIndex()) {
      throw new IllegalStateException("commit " + index + " beyond last index " + lastIndex());
    }
    committed = index;
  }

  /** Raft §5.4.2: commits {@code index} only if its entry is from the leader's {@code term}. */
  boolean maybeCommit(long index, long term) {
    if (index > committed
        && (term(index) == term || Mutation.on(Mutation.COMMIT_PREVIOUS_TERM_BY_COUNTING))) {
      commitTo(index);
      return true;
    }
    return false;
  }

  void appliedTo(long index) {
    if (index == 0) {
      return;
    }
    if (index > committed || index < applied) {
      throw new IllegalStateException("applied " + index + " out of range [" + applied + ", "
          + committed + "]");
    }
    applied = index;
  }

  boolean hasNextCommittedEntries() {
    return committed > Math.max(applied, firstIndex() - 1);
  }

  /** Committed entries not yet applied, limited in size; empty if none. */
  List<Entry> nextCommittedEntries() {
    long lo = Math.max(applied + 1, firstIndex());
    if (committed < lo) {
      return List.of();
    }
    return slice(lo, committed + 1, maxApplyBytes);
  }

  /** Whether a configuration change lies in {@code (applied, committed]}. */
  boolean hasCommittedUnappliedConfChange() {
    long lo = Math.max(applied + 1, firstIndex());
    for (Entry e : slice(lo, committed + 1, Long.MAX_VALUE)) {
      if (e.type() == EntryType.CONF_CHANGE) {
        return true;
      }
    }
    return false;
  }

  boolean hasUnstableEntries() {
    return unstable.hasEntries();
  }

  List<Entry> unstableEntries() {
    return unstable.entries();
  }

  Snapshot unstableSnapshot() {
    return unstable.snapshot();
  }

  Snapshot snapshot() {
    Snapshot s = unstable.snapshot();
    return s != null ? s : storage.snapshot();
  }

  void stableTo(long index, long term) {
    unstable.stableTo(index, term);
  }

  void stableSnapTo(long index) {
    unstable.stableSnapTo(index);
  }

  /** Replaces the log with a snapshot from the leader; everything up to it is committed. */
  void restore(Snapshot s) {
    committed = s.index();
    unstable.restore(s);
  }
}
