package io.vigil.consensus.raft;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A single-server membership change (thesis §4.1): at most one is pending at a time, so every
 * two consecutive configurations share a majority.
 *
 * <p>Proposed with {@link RawNode#proposeConfChange}; takes effect on each node when the
 * application applies the committed entry and calls {@link RawNode#applyConfChange}. The
 * {@code context} is the application's (etcd puts the member's name and URLs there); the core
 * carries it and never reads it.
 */
public record ConfChange(Type type, long nodeId, byte[] context) {
  public enum Type {
    /** Add a voter, or promote an existing learner (only once it has caught up). */
    ADD_VOTER,
    /** Add a non-voting learner that receives the log. */
    ADD_LEARNER,
    /** Remove a voter or learner. A removed leader steps down. */
    REMOVE,
    /**
     * Change what the application knows of a member (etcd's UpdateNode: its peer URLs); the
     * configuration stays as it is. Ordered with the other changes: one at a time.
     */
    UPDATE
  }

  private static final int HEADER_BYTES = 9;
  private static final byte[] NONE = new byte[0];

  public ConfChange {
    if (type == null || nodeId == 0) {
      throw new IllegalArgumentException("invalid conf change " + type + " " + nodeId);
    }
    context = context == null ? NONE : context;
  }

  public ConfChange(Type type, long nodeId) {
    this(type, nodeId, NONE);
  }

  /** The entry payload: one type byte, the node id (big-endian), then the context. */
  public byte[] encode() {
    return ByteBuffer.allocate(HEADER_BYTES + context.length).put((byte) type.ordinal()).putLong(nodeId)
        .put(context).array();
  }

  public static ConfChange decode(byte[] data) {
    if (data.length < HEADER_BYTES || data[0] < 0 || data[0] >= Type.values().length) {
      throw new IllegalArgumentException("not an encoded conf change: " + data.length + " bytes");
    }
    ByteBuffer buf = ByteBuffer.wrap(data);
    Type type = Type.values()[buf.get()];
    long nodeId = buf.getLong();
    return new ConfChange(type, nodeId, Arrays.copyOfRange(data, HEADER_BYTES, data.length));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ConfChange c && c.type == type && c.nodeId == nodeId && Arrays.equals(c.context, context);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * type.hashCode() + Long.hashCode(nodeId)) + Arrays.hashCode(context);
  }

  @Override
  public String toString() {
    return "ConfChange[" + type + " " + Long.toHexString(nodeId) + ", context " + context.length + " bytes]";
  }
}
