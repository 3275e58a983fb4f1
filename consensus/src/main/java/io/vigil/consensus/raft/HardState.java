package io.vigil.consensus.raft;

/**
 * The state that must survive a crash: it is persisted (together with the log entries of the
 * same {@link Ready}) before any message of that Ready is sent.
 *
 * <p>Invariant: {@code commit <= lastIndex} of the persisted log.
 *
 * @param term the current term
 * @param vote the node voted for in {@code term}, or 0 for none
 * @param commit the highest index known to be committed
 */
public record HardState(long term, long vote, long commit) {
  public static final HardState EMPTY = new HardState(0, 0, 0);

  public boolean isEmpty() {
    return equals(EMPTY);
  }
}
