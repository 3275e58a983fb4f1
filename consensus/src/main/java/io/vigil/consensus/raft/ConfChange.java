package io.vigil.consensus.raft;

import java.nio.ByteBuffer;

/**
 * A single-server membership change (thesis §4.1): at most one is pending at a time, so every
 * two consecutive configurations share a majority.
 *
 * <p>Proposed with {@link RawNode#proposeConfChange}; takes effect on each node when the
 * application applies the committed entry and calls {@link RawNode#applyConfChange}.
 */
public record ConfChange(Type type, long nodeId) {
  public enum Type {
    /** Add a voter, or promote an existing learner (only once it has caught up). */
    ADD_VOTER,
    /** Add a non-voting learner that receives the log. */
    ADD_LEARNER,
    /** Remove a voter or learner. A removed leader steps down. */
    REMOVE
  }

  private static final int ENCODED_BYTES = 9;

  public ConfChange {
    if (type == null || nodeId == 0) {
      throw new IllegalArgumentException("invalid conf change " + type + " " + nodeId);
    }
  }

  /** The entry payload: one type byte, then the node id, big-endian. */
  public byte[] encode() {
    return ByteBuffer.allocate(ENCODED_BYTES).put((byte) type.ordinal()).putLong(nodeId).array();
  }

  public static ConfChange decode(byte[] data) {
    if (data.length != ENCODED_BYTES || data[0] < 0 || data[0] >= Type.values().length) {
      throw new IllegalArgumentException("not an encoded conf change: " + data.length + " bytes");
    }
    ByteBuffer buf = ByteBuffer.wrap(data);
    return new ConfChange(Type.values()[buf.get()], buf.getLong());
  }
}
