package io.vigil.consensus.raft;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToLongFunction;

/**
 * The configuration (voters, learners) with the leader's {@link Progress} of each member, and the
 * votes of the current election. Maps are sorted so iteration, and hence every run, is
 * deterministic.
 *
 * <p>Invariant: {@code progress.keySet() == voters ∪ learners}, voters and learners disjoint.
 */
final class ProgressTracker {
  enum VoteResult { PENDING, WON, LOST }

  private final int maxInflightMsgs;
  private final long maxInflightBytes;
  private final TreeSet<Long> voters = new TreeSet<>();
  private final TreeSet<Long> learners = new TreeSet<>();
  private final TreeMap<Long, Progress> progress = new TreeMap<>();
  private final TreeMap<Long, Boolean> votes = new TreeMap<>();

  ProgressTracker(int maxInflightMsgs, long maxInflightBytes) {
    this.maxInflightMsgs = maxInflightMsgs;
    this.maxInflightBytes = maxInflightBytes;
  }

  ConfState confState() {
    return new ConfState(voters, learners);
  }

  /** Replaces the configuration; new progress starts probing at {@code next}. */
  void reset(ConfState cs, long next) {
    voters.clear();
    learners.clear();
    progress.clear();
    for (long id : cs.voters()) {
      addVoter(id, next);
    }
    for (long id : cs.learners()) {
      addLearner(id, next);
    }
  }

  /** Adds a voter, or promotes a learner keeping its progress. */
  void addVoter(long id, long next) {
    learners.remove(id);
    voters.add(id);
    progress.computeIfAbsent(id, k -> newProgress(next));
  }

  void addLearner(long id, long next) {
    if (voters.contains(id)) {
      throw new IllegalStateException("node " + id + " is a voter; demotion is not supported");
    }
    learners.add(id);
    progress.computeIfAbsent(id, k -> newProgress(next));
  }

  void remove(long id) {
    voters.remove(id);
    learners.remove(id);
    progress.remove(id);
    votes.remove(id);
  }

  private Progress newProgress(long next) {
    Progress p = new Progress(next, maxInflightMsgs, maxInflightBytes);
    // A newcomer gets a full CheckQuorum period before it can count as inactive.
    p.recentActive = true;
    return p;
  }

  Progress progress(long id) {
    return progress.get(id);
  }

  Map<Long, Progress> progressMap() {
    return progress;
  }

  boolean isVoter(long id) {
    return voters.contains(id);
  }

  boolean isLearner(long id) {
    return learners.contains(id);
  }

  TreeSet<Long> voters() {
    return voters;
  }

  int quorum() {
    return voters.size() / 2 + 1;
  }

  /** The largest index stored on a quorum of voters (their Match values). */
  long committedIndex() {
    return quorumValue(id -> progress.get(id).match);
  }

  /** The largest value that a quorum of voters has reached. */
  long quorumValue(ToLongFunction<Long> valueOf) {
    if (voters.isEmpty()) {
      return 0;
    }
    long[] values = new long[voters.size()];
    int i = 0;
    for (long id : voters) {
      values[i++] = valueOf.applyAsLong(id);
    }
    Arrays.sort(values);
    return values[values.length - quorum()];
  }

  /** CheckQuorum: whether a quorum of voters (counting {@code self}) was recently active. */
  boolean quorumActive(long self) {
    int active = 0;
    for (long id : voters) {
      if (id == self || progress.get(id).recentActive) {
        active++;
      }
    }
    return active >= quorum();
  }

  void resetRecentActive(long self) {
    progress.forEach((id, pr) -> pr.recentActive = id == self);
  }

  void resetVotes() {
    votes.clear();
  }

  /** Records a vote (the first one from each voter counts) and tallies the election. */
  VoteResult recordVote(long id, boolean granted) {
    if (voters.contains(id)) {
      votes.putIfAbsent(id, granted);
    }
    int yes = 0;
    int no = 0;
    for (boolean v : votes.values()) {
      if (v) {
        yes++;
      } else {
        no++;
      }
    }
    if (yes >= quorum()) {
      return VoteResult.WON;
    }
    return voters.size() - no < quorum() ? VoteResult.LOST : VoteResult.PENDING;
  }
}
