package io.vigil.consensus.raft;

/** The role a node plays in its current term. */
public enum StateRole {
  FOLLOWER,
  /** PreVote phase (thesis §9.6): polling peers without incrementing the term. */
  PRE_CANDIDATE,
  CANDIDATE,
  LEADER
}
