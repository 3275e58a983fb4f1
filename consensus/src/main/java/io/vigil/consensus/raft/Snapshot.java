package io.vigil.consensus.raft;

import java.util.Objects;

/**
 * A point-in-time image of the application's state machine, replacing the log up to {@code index}.
 *
 * @param index the last log index the image includes
 * @param term the term of the entry at {@code index}
 * @param confState the configuration in effect at {@code index}
 * @param data the application's opaque image
 */
public record Snapshot(long index, long term, ConfState confState, byte[] data) {
  public static final Snapshot EMPTY = new Snapshot(0, 0, ConfState.EMPTY, new byte[0]);

  public Snapshot {
    Objects.requireNonNull(confState, "confState");
    data = data == null ? new byte[0] : data;
  }

  public boolean isEmpty() {
    return index == 0;
  }

  @Override
  public String toString() {
    return "Snapshot{" + term + "/" + index + " " + confState + " " + data.length + "B}";
  }
}
