package io.vigil.consensus.raft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The leader's batched ReadIndex (thesis §6.4): every read request remembers the commit index at
 * its arrival and the heartbeat <em>round</em> that will confirm it. All requests that arrive
 * before the next {@link RawNode#ready()} share one round, so thousands of concurrent reads cost a
 * single heartbeat broadcast.
 *
 * <p>Worked example (3 voters, self = 1): reads A and B arrive with commit 7 and join round 4;
 * the Ready starts round 4 and heartbeats carry index=4. Node 2 answers with index=4: acked
 * rounds are {1:4, 2:4, 3:3}, the quorum value is 4, so A and B are released with read index 7.
 * A read C arriving meanwhile joins round 5 and waits for the next broadcast.
 *
 * <p>Why this is safe: an ack of round r is sent by a follower that, after round r began,
 * still recognised this leader's term; a quorum of such acks proves that no other leader could
 * have committed anything at that moment, so the commit index recorded before round r began is
 * at least every index committed before the request arrived. Requests are only accepted once
 * the leader has committed an entry of its own term (before that its commit index may be stale);
 * earlier ones wait in {@code waitingForCommit}.
 */
final class ReadIndexQueue {
  /** One read: {@code from} is the node to answer (self for local reads). */
  record PendingRead(long round, long index, long from, byte[] context) {}

  private final ArrayDeque<Message> waitingForCommit = new ArrayDeque<>();
  private final ArrayDeque<PendingRead> pending = new ArrayDeque<>();
  private final TreeMap<Long, Long> ackedRound = new TreeMap<>();
  /** Highest round broadcast; monotonic across terms so stale acks can never match. */
  private long lastSentRound;

  /** Drops every queued request (leadership lost or changed); callers retry. */
  void reset() {
    waitingForCommit.clear();
    pending.clear();
    ackedRound.clear();
  }

  void waitForCommit(Message m) {
    waitingForCommit.add(m);
  }

  List<Message> drainWaitingForCommit() {
    List<Message> out = new ArrayList<>(waitingForCommit);
    waitingForCommit.clear();
    return out;
  }

  void add(long readIndex, long from, byte[] context) {
    pending.add(new PendingRead(lastSentRound + 1, readIndex, from, context));
  }

  boolean hasUnsentRound() {
    return !pending.isEmpty() && pending.peekLast().round() > lastSentRound;
  }

  long startRound() {
    return ++lastSentRound;
  }

  long lastSentRound() {
    return lastSentRound;
  }

  void recordAck(long from, long round) {
    ackedRound.merge(from, round, Math::max);
  }

  /** Removes and returns the requests whose round a quorum of voters has acknowledged. */
  List<PendingRead> releaseConfirmed(ProgressTracker tracker, long self) {
    List<PendingRead> out = new ArrayList<>();
    if (pending.isEmpty()) {
      return out;
    }
    long confirmed = tracker.quorumValue(
        id -> id == self ? lastSentRound : ackedRound.getOrDefault(id, 0L));
    while (!pending.isEmpty() && pending.peekFirst().round() <= confirmed) {
      out.add(pending.pollFirst());
    }
    return out;
  }

  int pendingCount() {
    return pending.size() + waitingForCommit.size();
  }
}
