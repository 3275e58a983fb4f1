package io.vigil.consensus.raft;

/**
 * Known Raft bugs that can be switched on, one at a time, to show that the test suite catches
 * them (the mutation check, {@code MutationCheckTest}; see consensus/README.md).
 *
 * <p>Test seam only: {@link #active} is package-private, starts as {@link #NONE} and nothing in
 * production code assigns it, so production always takes the correct path. Each check is one
 * static field load and a reference compare on paths that already do far more work. Tests that
 * set it must reset it to {@link #NONE} in a {@code finally} block, and the consensus tests run
 * in one thread (surefire's default), so a mutation never leaks into another test.
 */
enum Mutation {
  NONE,
  /** The persisted HardState never carries the vote: a restarted node can vote twice in a term. */
  VOTE_NOT_PERSISTED,
  /** A change of the vote alone (same term and commit) produces no HardState in the Ready. */
  VOTE_CHANGE_WITHOUT_HARDSTATE,
  /** A vote change is persisted, but the Ready says mustSync=false, so a crash can lose it. */
  VOTE_CHANGE_NOT_SYNCED,
  /** The leader commits entries of earlier terms by counting replicas (violates Raft §5.4.2). */
  COMMIT_PREVIOUS_TERM_BY_COUNTING,
  /** A follower keeps its conflicting entries instead of truncating them (violates §5.3). */
  KEEP_CONFLICTING_ENTRIES,
  /** A voter grants its vote to a candidate whose log is less up to date (violates §5.4.1). */
  VOTE_FOR_STALE_LOG;

  /** The mutation in force; {@link #NONE} outside the mutation check. */
  static Mutation active = NONE;

  static boolean on(Mutation m) {
    return active == m;
  }
}
