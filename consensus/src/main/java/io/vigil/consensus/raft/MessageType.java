package io.vigil.consensus.raft;

/** Kinds of {@link Message}. Local kinds never cross the network. */
public enum MessageType {
  /** Local: start an election (sent to self when the election timeout elapses). */
  HUP(true),
  /** Local: leader, broadcast heartbeats. */
  BEAT(true),
  /** Local: leader, step down unless a quorum was active during the last election timeout. */
  CHECK_QUORUM(true),
  /** Local: the transport could not reach {@code from}. */
  UNREACHABLE(true),
  /** Local: result of sending a snapshot to {@code from}; {@code reject} means it failed. */
  SNAP_STATUS(true),
  /** A proposal; forwarded from followers to the leader. */
  PROP(false),
  APP(false),
  APP_RESP(false),
  PRE_VOTE(false),
  PRE_VOTE_RESP(false),
  VOTE(false),
  VOTE_RESP(false),
  SNAP(false),
  /** Carries the commit index and, in {@code index}, the ReadIndex round (see ReadIndexQueue). */
  HEARTBEAT(false),
  HEARTBEAT_RESP(false),
  /** Ask the leader to hand leadership to {@code from}. */
  TRANSFER_LEADER(false),
  /** Leader to transferee: campaign now, skipping PreVote and the leader lease. */
  TIMEOUT_NOW(false),
  READ_INDEX(false),
  READ_INDEX_RESP(false);

  private final boolean local;

  MessageType(boolean local) {
    this.local = local;
  }

  public boolean isLocal() {
    return local;
  }

  public boolean isResponse() {
    return this == APP_RESP || this == VOTE_RESP || this == PRE_VOTE_RESP
        || this == HEARTBEAT_RESP || this == UNREACHABLE || this == SNAP_STATUS;
  }
}
