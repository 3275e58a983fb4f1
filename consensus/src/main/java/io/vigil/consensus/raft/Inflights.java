package io.vigil.consensus.raft;

/**
 * Flow control window of one follower: the APP messages sent but not yet acknowledged, as a ring
 * of (last index, bytes), bounded by count and by total bytes.
 *
 * <p>Invariant: indexes increase from the oldest to the newest slot.
 */
final class Inflights {
  private final int capacity;
  private final long maxBytes;
  private final long[] lastIndex;
  private final long[] sizeBytes;
  private int start;
  private int count;
  private long bytes;

  Inflights(int capacity, long maxBytes) {
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.lastIndex = new long[capacity];
    this.sizeBytes = new long[capacity];
  }

  /** Records an APP whose last entry is {@code index}; callers check {@link #full()} first. */
  void add(long index, long msgBytes) {
    if (full()) {
      throw new IllegalStateException("inflights full: " + count + " msgs, " + bytes + " bytes");
    }
    int slot = (start + count) % capacity;
    lastIndex[slot] = index;
    sizeBytes[slot] = msgBytes;
    count++;
    bytes += msgBytes;
  }

  /** Frees every message whose last index is {@code <= index} (the follower acknowledged it). */
  void freeLE(long index) {
    while (count > 0 && lastIndex[start] <= index) {
      freeFirst();
    }
  }

  /** Frees the oldest message: a heartbeat response proves the follower is alive. */
  void freeFirstOne() {
    if (count > 0) {
      freeFirst();
    }
  }

  private void freeFirst() {
    bytes -= sizeBytes[start];
    start = (start + 1) % capacity;
    count--;
  }

  boolean full() {
    return count == capacity || bytes >= maxBytes;
  }

  int count() {
    return count;
  }

  long bytes() {
    return bytes;
  }

  void reset() {
    start = 0;
    count = 0;
    bytes = 0;
  }
}
