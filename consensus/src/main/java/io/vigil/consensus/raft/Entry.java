package io.vigil.consensus.raft;

import java.util.Objects;

/**
 * One log entry. Entries are immutable; {@code data} must not be modified after it is handed to
 * the core.
 *
 * @param term the leader term in which the entry was created (≥ 1)
 * @param index the position in the log (≥ 1)
 * @param type what {@code data} holds
 * @param data opaque bytes, never null (empty for the leader's no-op)
 */
public record Entry(long term, long index, EntryType type, byte[] data) {
  /** Bytes accounted per entry on top of its data, for the size limits in {@link Config}. */
  static final int OVERHEAD_BYTES = 24;

  private static final byte[] NO_DATA = new byte[0];

  public Entry {
    Objects.requireNonNull(type, "type");
    data = data == null ? NO_DATA : data;
  }

  public static Entry normal(long term, long index, byte[] data) {
    return new Entry(term, index, EntryType.NORMAL, data);
  }

  /** The size counted against {@code maxSizePerMsgBytes} and the other byte limits. */
  public long sizeBytes() {
    return data.length + OVERHEAD_BYTES;
  }

  Entry withPosition(long newTerm, long newIndex) {
    return new Entry(newTerm, newIndex, type, data);
  }

  @Override
  public String toString() {
    return "Entry{" + term + "/" + index + (type == EntryType.CONF_CHANGE ? " conf" : "")
        + " " + data.length + "B}";
  }
}
