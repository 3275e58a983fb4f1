package io.vigil.consensus.raft;

import java.util.Collections;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A cluster configuration: who votes and who only receives the log. Stored with every snapshot;
 * the sets are sorted and immutable so iteration order is deterministic.
 *
 * <p>Invariant: {@code voters} and {@code learners} are disjoint.
 */
public record ConfState(SortedSet<Long> voters, SortedSet<Long> learners) {
  public static final ConfState EMPTY = new ConfState(Set.of(), Set.of());

  public ConfState(Set<Long> voters, Set<Long> learners) {
    this(immutableSorted(voters), immutableSorted(learners));
  }

  public ConfState {
    voters = immutableSorted(voters);
    learners = immutableSorted(learners);
    for (long id : voters) {
      if (id == 0) {
        throw new IllegalArgumentException("node ids must not be 0, got " + id);
      }
      if (learners.contains(id)) {
        throw new IllegalArgumentException("node " + id + " is both voter and learner");
      }
    }
  }

  public static ConfState ofVoters(Long... voters) {
    return new ConfState(Set.of(voters), Set.of());
  }

  public boolean contains(long id) {
    return voters.contains(id) || learners.contains(id);
  }

  private static SortedSet<Long> immutableSorted(Set<Long> ids) {
    return Collections.unmodifiableSortedSet(new TreeSet<>(ids));
  }
}
