package io.vigil.consensus.raft;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simulator's oracle. It sees every Ready every node processes and fails the run (through
 * {@link Violation}) the moment any of these breaks:
 *
 * <ul>
 *   <li>Election safety: at most one leader per term.
 *   <li>Vote safety: a node's durable vote never changes within a term.
 *   <li>Log matching: two entries with the same index and term have the same data and the same
 *       predecessor term, hence (by induction) identical logs up to there.
 *   <li>Commit durability: an index, once persisted as committed anywhere, always holds the same
 *       entry; every leader of a later term holds it (leader completeness).
 *   <li>State machine safety: every node applies the same sequence: index by index, without
 *       gaps, the same entries, reaching the same state hash (also across snapshots).
 *   <li>Leader commit rule (Raft §5.4.2): a leader moves its commit index onto an entry of an
 *       earlier term only up to what some node had already persisted as committed; anything
 *       beyond needs an entry of its own term. This catches counting replicas of old entries
 *       the moment it happens, not only in the rare history (figure 8) where it loses data.
 *   <li>ReadIndex linearizability: a read's index is at least every commit index visible before
 *       the read was issued, and is itself committed.
 * </ul>
 */
final class SafetyChecker {
  /** A broken invariant; the simulation adds the seed and the recent trace. */
  static final class Violation extends RuntimeException {
    Violation(String message) {
      super(message);
    }
  }

  private record LogKey(long index, long term) {}

  private record LogValue(int dataHash, long prevTerm) {}

  private final Map<Long, Long> leaderOfTerm = new HashMap<>();
  private final Map<Long, HardState> lastHardState = new HashMap<>();
  private final Map<LogKey, LogValue> logEntries = new HashMap<>();
  private final Map<Long, Long> committedTerm = new HashMap<>();
  private final Map<Long, Integer> committedData = new HashMap<>();
  private final Map<Long, Long> stateHashAt = new HashMap<>();
  /** For each term U, the highest commit index persisted by a node whose term was U. */
  private final TreeMap<Long, Long> commitByTerm = new TreeMap<>();
  private final Map<Long, Long> readMinIndex = new HashMap<>();
  private long maxCommit;
  private long readsAnswered;

  long maxCommit() {
    return maxCommit;
  }

  long readsAnswered() {
    return readsAnswered;
  }

  static void check(boolean ok, String message) {
    if (!ok) {
      throw new Violation(message);
    }
  }

  void onLeader(long nodeId, long term, RaftLog log) {
    Long prev = leaderOfTerm.putIfAbsent(term, nodeId);
    check(prev == null || prev == nodeId,
        "election safety: two leaders in term " + term + ": " + prev + " and " + nodeId);
    // Leader completeness: everything committed under an earlier term is in the new leader's log.
    long mustHold = 0;
    for (long c : commitByTerm.headMap(term, false).values()) {
      mustHold = Math.max(mustHold, c);
    }
    if (mustHold >= log.firstIndex() - 1 && committedTerm.containsKey(mustHold)) {
      long t = mustHold <= log.lastIndex() ? log.term(mustHold) : 0;
      check(t == committedTerm.get(mustHold), "leader completeness: leader " + nodeId + " of term "
          + term + " has term " + t + " at committed index " + mustHold + ", expected "
          + committedTerm.get(mustHold));
    }
  }

  /** Called after the node persisted {@code rd}'s snapshot, entries and hard state. */
  void onPersisted(long nodeId, MemoryStorage storage, Ready rd, long verifiedCommit,
      boolean leader) {
    for (Entry e : rd.entries()) {
      long prevTerm = e.index() - 1 >= storage.firstIndex() - 1 ? storage.term(e.index() - 1) : -1;
      LogValue v = new LogValue(Arrays.hashCode(e.data()) * 31 + e.type().ordinal(), prevTerm);
      LogValue prev = logEntries.putIfAbsent(new LogKey(e.index(), e.term()), v);
      if (prev != null) {
        check(prev.dataHash == v.dataHash, "log matching: node " + nodeId + " entry "
            + e.index() + "/" + e.term() + " differs from another node's");
        check(prev.prevTerm == v.prevTerm || prev.prevTerm < 0 || v.prevTerm < 0,
            "log matching: node " + nodeId + " entry " + e.index() + "/" + e.term()
                + " follows term " + v.prevTerm + " elsewhere " + prev.prevTerm);
        if (prev.prevTerm < 0 && prevTerm >= 0) {
          logEntries.put(new LogKey(e.index(), e.term()), v);
        }
      }
    }
    rd.hardState().ifPresent(hs -> {
      if (leader) {
        checkLeaderCommit(nodeId, hs, storage);
      }
      onHardState(nodeId, hs, storage, verifiedCommit);
    });
  }

  /**
   * A leader's commit index comes from its own quorum count, which §5.4.2 limits to entries of
   * its term, or from what it learned as a follower, which a leader persisted before sending.
   */
  private void checkLeaderCommit(long nodeId, HardState hs, MemoryStorage storage) {
    if (hs.commit() <= maxCommit || hs.commit() < storage.firstIndex()) {
      return;
    }
    long entryTerm = storage.term(hs.commit());
    check(entryTerm == hs.term(), "leader commit rule: leader " + nodeId + " of term "
        + hs.term() + " committed index " + hs.commit() + " of term " + entryTerm
        + " by counting replicas (no node had persisted a commit beyond " + maxCommit + ")");
  }

  private void onHardState(long nodeId, HardState hs, MemoryStorage storage, long verifiedFrom) {
    HardState prev = lastHardState.put(nodeId, hs);
    if (prev != null) {
      check(hs.term() >= prev.term(), "node " + nodeId + " term went back " + prev + " -> " + hs);
      check(hs.term() != prev.term() || prev.vote() == 0 || prev.vote() == hs.vote(),
          "node " + nodeId + " changed its vote within term " + hs.term() + ": " + prev + " -> "
              + hs);
    }
    check(hs.commit() <= storage.lastIndex(), "node " + nodeId + " persisted commit "
        + hs.commit() + " beyond its persisted log " + storage.lastIndex());
    for (long i = Math.max(verifiedFrom + 1, storage.firstIndex()); i <= hs.commit(); i++) {
      Entry e = storage.entries(i, i + 1, Long.MAX_VALUE).get(0);
      recordCommitted(nodeId, i, e.term(), Arrays.hashCode(e.data()));
    }
    commitByTerm.merge(hs.term(), hs.commit(), Math::max);
    maxCommit = Math.max(maxCommit, hs.commit());
  }

  private void recordCommitted(long nodeId, long index, long term, int dataHash) {
    Long t = committedTerm.putIfAbsent(index, term);
    Integer d = committedData.putIfAbsent(index, dataHash);
    check(t == null || (t == term && d == dataHash), "committed entry changed: node " + nodeId
        + " has " + index + "/" + term + " committed, but " + index + "/" + t + " was committed");
  }

  /** The node applied entry {@code e}, reaching state hash {@code hash}. */
  void onApplied(long nodeId, long prevApplied, Entry e, long hash) {
    check(e.index() == prevApplied + 1, "node " + nodeId + " applied " + e.index() + " after "
        + prevApplied);
    Long t = committedTerm.get(e.index());
    check(t != null, "node " + nodeId + " applied " + e.index() + " before it was committed");
    check(t == e.term() && committedData.get(e.index()) == Arrays.hashCode(e.data()),
        "node " + nodeId + " applied " + e.index() + "/" + e.term() + " but " + e.index() + "/" + t
            + " is committed");
    checkStateHash(nodeId, e.index(), hash);
  }

  void onSnapshotRestored(long nodeId, Snapshot s, long hash) {
    Long t = committedTerm.get(s.index());
    check(t == null || t == s.term(), "node " + nodeId + " restored snapshot " + s.index() + "/"
        + s.term() + " but " + s.index() + "/" + t + " is committed");
    checkStateHash(nodeId, s.index(), hash);
  }

  void checkStateHash(long nodeId, long index, long hash) {
    Long h = stateHashAt.putIfAbsent(index, hash);
    check(h == null || h == hash, "state machine divergence: node " + nodeId + " at index "
        + index);
  }

  void onReadIssued(long ctx) {
    readMinIndex.put(ctx, maxCommit);
  }

  void onReadState(long nodeId, ReadState rs) {
    long ctx = java.nio.ByteBuffer.wrap(rs.requestContext()).getLong();
    Long min = readMinIndex.get(ctx);
    check(min != null, "node " + nodeId + " answered unknown read " + ctx);
    check(rs.index() >= min, "stale read: node " + nodeId + " answered read " + ctx
        + " with index " + rs.index() + " but " + min + " was committed before it was issued");
    check(rs.index() <= maxCommit, "read " + ctx + " answered with uncommitted index "
        + rs.index() + " (max commit " + maxCommit + ")");
    readsAnswered++;
  }

  /** End of run: every pair of persisted logs agrees wherever they share an index and term. */
  void checkLogsPairwise(List<MemoryStorage> logs) {
    for (int a = 0; a < logs.size(); a++) {
      for (int b = a + 1; b < logs.size(); b++) {
        comparePair(logs.get(a), logs.get(b));
      }
    }
  }

  private static void comparePair(MemoryStorage x, MemoryStorage y) {
    long lo = Math.max(x.firstIndex(), y.firstIndex());
    long hi = Math.min(x.lastIndex(), y.lastIndex());
    long common = -1;
    for (long i = hi; i >= lo; i--) {
      if (x.term(i) == y.term(i)) {
        common = i;
        break;
      }
    }
    for (long i = lo; i <= common; i++) {
      Entry ex = x.entries(i, i + 1, Long.MAX_VALUE).get(0);
      Entry ey = y.entries(i, i + 1, Long.MAX_VALUE).get(0);
      check(ex.term() == ey.term() && Arrays.equals(ex.data(), ey.data()),
          "log matching: logs agree at " + common + " but differ at " + i);
    }
  }
}
