package io.vigil.consensus.raft;

/** The requested index is below the storage's first index: it was compacted into a snapshot. */
public final class CompactedException extends RuntimeException {
  public CompactedException(long index, long firstIndex) {
    super("index " + index + " is compacted (first index " + firstIndex + ")");
  }
}
