package io.vigil.consensus.raft;

import java.util.Map;

/**
 * A point-in-time view of a node, for monitoring and for deciding membership changes (e.g.
 * whether a learner has caught up before promoting it).
 *
 * @param progress the leader's view of each member; empty unless this node is the leader
 */
public record Status(long id, HardState hardState, SoftState softState, long applied,
    ConfState confState, Map<Long, PeerProgress> progress) {

  /** How a leader replicates to one member. */
  public enum ReplicationState { PROBE, REPLICATE, SNAPSHOT }

  /** Entries up to {@code match} are on the member; {@code next} is the next one to send. */
  public record PeerProgress(long match, long next, ReplicationState state) {}
}
