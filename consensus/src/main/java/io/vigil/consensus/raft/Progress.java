package io.vigil.consensus.raft;

/**
 * The leader's view of one follower (or of itself).
 *
 * <p>Invariant: {@code 0 <= match < next}. Entries up to {@code match} are known to be on the
 * follower; {@code next} is the next index to send.
 *
 * <p>States (one method per transition, illegal ones impossible by construction):
 * <ul>
 *   <li>PROBE: we do not know where the follower's log matches ours; send one APP at a time and
 *       wait ({@code probeSent}) for its answer or a heartbeat response.
 *   <li>REPLICATE: steady state; stream APPs optimistically ({@code next} advances on send),
 *       bounded by {@link Inflights}.
 *   <li>SNAPSHOT: the entries it needs are compacted; a snapshot is on its way and nothing else
 *       is sent until it is acknowledged or reported failed.
 * </ul>
 */
final class Progress {
  enum State { PROBE, REPLICATE, SNAPSHOT }

  long match;
  long next;
  State state = State.PROBE;
  /** PROBE only: an APP is outstanding; cleared by its answer or by a heartbeat response. */
  boolean probeSent;
  /** SNAPSHOT only: the index of the snapshot being sent. */
  long pendingSnapshot;
  /** Heard from during the current CheckQuorum period. */
  boolean recentActive;
  final Inflights inflights;

  Progress(long next, int maxInflightMsgs, long maxInflightBytes) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  void becomeProbe() {
    // Coming back from a snapshot, the follower has at least the snapshot.
    long from = state == State.SNAPSHOT ? Math.max(match, pendingSnapshot) : match;
    resetState(State.PROBE);
    next = from + 1;
  }

  void becomeReplicate() {
    resetState(State.REPLICATE);
    next = match + 1;
  }

  void becomeSnapshot(long snapshotIndex) {
    resetState(State.SNAPSHOT);
    pendingSnapshot = snapshotIndex;
  }

  private void resetState(State s) {
    state = s;
    probeSent = false;
    pendingSnapshot = 0;
    inflights.reset();
  }

  /** Whether sending APPs to this follower is on hold. */
  boolean isPaused() {
    return switch (state) {
      case PROBE -> probeSent;
      case REPLICATE -> inflights.full();
      case SNAPSHOT -> true;
    };
  }

  /** Accounts an APP carrying {@code count} entries ending at {@code lastIndex}. */
  void sentEntries(int count, long lastIndex, long msgBytes) {
    switch (state) {
      case REPLICATE -> {
        if (count > 0) {
          next = lastIndex + 1;
          inflights.add(lastIndex, msgBytes);
        }
      }
      case PROBE -> {
        if (count > 0) {
          probeSent = true;
        }
      }
      case SNAPSHOT -> throw new IllegalStateException("sending entries in state SNAPSHOT");
    }
  }

  /** The follower acknowledged up to {@code index}; returns false if that is old news. */
  boolean maybeUpdate(long index) {
    boolean updated = false;
    if (match < index) {
      match = index;
      updated = true;
      probeSent = false;
    }
    next = Math.max(next, index + 1);
    return updated;
  }

  /**
   * The follower rejected the APP at {@code rejected}; {@code hint} is the last index that may
   * match. Returns false if the rejection is stale (answers an APP we already moved past).
   */
  boolean maybeDecrTo(long rejected, long hint) {
    if (state == State.REPLICATE) {
      if (rejected <= match) {
        return false;
      }
      next = match + 1;
      return true;
    }
    if (next - 1 != rejected) {
      return false;
    }
    next = Math.max(Math.min(rejected, hint + 1), match + 1);
    probeSent = false;
    return true;
  }

  @Override
  public String toString() {
    return state + " match=" + match + " next=" + next
        + (state == State.SNAPSHOT ? " pendingSnapshot=" + pendingSnapshot : "")
        + " inflight=" + inflights.count();
  }
}
