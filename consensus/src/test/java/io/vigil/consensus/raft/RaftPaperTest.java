package io.vigil.consensus.raft;

import static io.vigil.consensus.raft.RaftTestUtil.ELECTION;
import static io.vigil.consensus.raft.RaftTestUtil.becomeLeader;
import static io.vigil.consensus.raft.RaftTestUtil.electionTimeout;
import static io.vigil.consensus.raft.RaftTestUtil.entriesWithTerms;
import static io.vigil.consensus.raft.RaftTestUtil.msg;
import static io.vigil.consensus.raft.RaftTestUtil.prop;
import static io.vigil.consensus.raft.RaftTestUtil.raft;
import static io.vigil.consensus.raft.RaftTestUtil.take;
import static io.vigil.consensus.raft.RaftTestUtil.terms;
import static io.vigil.consensus.raft.RaftTestUtil.voters;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The rules of figure 2 of the Raft paper ("In Search of an Understandable Consensus Algorithm"),
 * one test per rule, message by message. PreVote and CheckQuorum are off here; they have their
 * own tests.
 */
class RaftPaperTest {

  // §5.1 "If a server receives a request with a stale term number, it rejects the request";
  // "if one server's current term is smaller than the other's, it updates its current term".

  @ParameterizedTest
  @EnumSource(value = StateRole.class, names = {"FOLLOWER", "CANDIDATE", "LEADER"})
  void anyRoleStepsDownToFollowerOnHigherTerm(StateRole role) {
    Raft r = raft(1, voters(1, 2, 3));
    if (role == StateRole.CANDIDATE) {
      r.becomeCandidate();
    } else if (role == StateRole.LEADER) {
      becomeLeader(r);
    }
    r.step(msg(MessageType.APP, 2, 1, 5).build());
    assertEquals(5, r.term);
    assertEquals(StateRole.FOLLOWER, r.role);
    assertEquals(2, r.leaderId);
  }

  @Test
  void staleTermMessagesAreIgnored() {
    Raft r = raft(1, voters(1, 2, 3));
    r.becomeFollower(4, 3);
    r.step(msg(MessageType.VOTE, 2, 1, 3).index(9).logTerm(3).build());
    r.step(msg(MessageType.APP, 2, 1, 3).entries(entriesWithTerms(1, 3)).build());
    assertEquals(4, r.term);
    assertEquals(Raft.NONE, r.vote);
    assertEquals(0, r.log.lastIndex());
    assertTrue(take(r).isEmpty());
  }

  // §5.2 Leader election.

  @Test
  void nodesStartAsFollowers() {
    Raft r = raft(1, voters(1, 2, 3));
    assertEquals(StateRole.FOLLOWER, r.role);
    assertEquals(0, r.term);
  }

  @Test
  void leaderSendsHeartbeatsEveryHeartbeatTimeout() {
    Raft r = raft(1, voters(1, 2, 3));
    becomeLeader(r);
    r.tick();
    List<Message> msgs = take(r);
    assertEquals(2, msgs.size());
    for (Message m : msgs) {
      assertEquals(MessageType.HEARTBEAT, m.type());
      assertEquals(r.term, m.term());
    }
  }

  @ParameterizedTest
  @EnumSource(value = StateRole.class, names = {"FOLLOWER", "CANDIDATE"})
  void electionTimeoutStartsElection(StateRole role) {
    Raft r = raft(1, voters(1, 2, 3));
    if (role == StateRole.CANDIDATE) {
      r.becomeCandidate(); // a candidate whose election timed out starts a new one
      take(r);
    }
    long before = r.term;
    electionTimeout(r);
    assertEquals(before + 1, r.term);
    assertEquals(StateRole.CANDIDATE, r.role);
    assertEquals(1, r.vote, "votes for itself");
    List<Message> msgs = take(r);
    assertEquals(Set.of(2L, 3L), Set.copyOf(msgs.stream().map(Message::to).toList()));
    msgs.forEach(m -> assertEquals(MessageType.VOTE, m.type()));
  }

  @ParameterizedTest(name = "{0} voters, {1} granted, {2} rejected -> {3}")
  @CsvSource({
      "1, 0, 0, LEADER",
      "3, 1, 0, LEADER",
      "3, 2, 0, LEADER",
      "5, 2, 0, LEADER",
      "5, 4, 0, LEADER",
      "3, 0, 0, CANDIDATE",
      "5, 1, 0, CANDIDATE",
      "5, 1, 2, CANDIDATE",
      "3, 0, 2, FOLLOWER",
      "5, 1, 3, FOLLOWER",
  })
  void candidateWinsWithMajorityAndLosesWithout(int size, int granted, int rejected,
      StateRole expected) {
    long[] ids = new long[size];
    for (int i = 0; i < size; i++) {
      ids[i] = i + 1;
    }
    Raft r = raft(1, voters(ids));
    r.step(Message.builder(MessageType.HUP).from(1).build());
    long voter = 2;
    for (int i = 0; i < granted; i++) {
      r.step(msg(MessageType.VOTE_RESP, voter++, 1, r.term).build());
    }
    for (int i = 0; i < rejected; i++) {
      r.step(msg(MessageType.VOTE_RESP, voter++, 1, r.term).reject(true).build());
    }
    assertEquals(expected, r.role);
    assertEquals(1, r.term);
  }

  @Test
  void aNodeVotesAtMostOncePerTermFirstComeFirstServed() {
    Raft r = raft(1, voters(1, 2, 3));
    r.step(msg(MessageType.VOTE, 2, 1, 1).build());
    r.step(msg(MessageType.VOTE, 3, 1, 1).build());
    r.step(msg(MessageType.VOTE, 2, 1, 1).build()); // a retry by the same candidate is granted
    List<Message> resp = take(r);
    assertEquals(List.of(false, true, false), resp.stream().map(Message::reject).toList());
    assertEquals(2, r.vote);
  }

  @Test
  void followerHearingFromLeaderOrGrantingVotesNeverTimesOut() {
    Raft r = raft(1, voters(1, 2, 3));
    for (int i = 0; i < 5 * ELECTION; i++) {
      r.tick();
      r.step(msg(MessageType.HEARTBEAT, 2, 1, 1).build());
    }
    assertEquals(StateRole.FOLLOWER, r.role);
    assertEquals(1, r.term);
    Raft voter = raft(1, voters(1, 2, 3));
    voter.becomeFollower(1, Raft.NONE);
    int timeout = voter.randomizedElectionTicks();
    RaftTestUtil.tick(voter, timeout - 1);
    voter.step(msg(MessageType.VOTE, 2, 1, 1).build()); // same term: granting resets the timer
    assertFalse(take(voter).get(0).reject());
    RaftTestUtil.tick(voter, timeout - 1);
    assertEquals(StateRole.FOLLOWER, voter.role);
    voter.tick();
    assertEquals(StateRole.CANDIDATE, voter.role);
  }

  @Test
  void successfulAppendAdvancesMatchAndNextIndex() {
    Raft r = raft(1, voters(1, 2, 3));
    becomeLeader(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    Progress pr = r.tracker.progress(2);
    assertEquals(1, pr.match);
    assertEquals(2, pr.next);
    r.step(prop("a".getBytes()));
    r.step(prop("b".getBytes()));
    assertEquals(4, pr.next, "replicating: next advances optimistically as entries are sent");
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(3).build());
    assertEquals(3, pr.match);
  }

  @Test
  void candidateReturnsToFollowerOnAppendFromLeaderOfSameTerm() {
    Raft r = raft(1, voters(1, 2, 3));
    r.becomeCandidate();
    r.step(msg(MessageType.APP, 2, 1, r.term).build());
    assertEquals(StateRole.FOLLOWER, r.role);
    assertEquals(2, r.leaderId);
    assertEquals(1, r.term);
  }

  @Test
  void electionTimeoutsAreRandomizedWithinOneToTwoTimeouts() {
    Set<Integer> seen = new HashSet<>();
    for (long seed = 0; seed < 200; seed++) {
      Raft r = new Raft(RaftTestUtil.config(1).randomSeed(seed).build(),
          RaftTestUtil.storage(voters(1, 2, 3)));
      int t = r.randomizedElectionTicks();
      assertTrue(t >= ELECTION && t < 2 * ELECTION, "timeout " + t);
      seen.add(t);
    }
    assertEquals(ELECTION, seen.size(), "every value in [et, 2et) occurs");
  }

  @Test
  void voteRequestCarriesLastLogPosition() {
    Raft r = raft(1, voters(1, 2, 3), 1, 1, 2);
    r.becomeFollower(2, Raft.NONE);
    electionTimeout(r);
    for (Message m : take(r)) {
      assertEquals(3, m.index());
      assertEquals(2, m.logTerm());
      assertEquals(3, m.term());
    }
  }

  // §5.4.1 "the voter denies its vote if its own log is more up-to-date than that of the
  // candidate".

  @ParameterizedTest(name = "voter log [1,1,2]; candidate last {0}/{1} -> granted {2}")
  @CsvSource({
      "3, 2, true",   // same last entry
      "4, 2, true",   // same term, longer
      "1, 3, true",   // higher last term wins even if shorter
      "2, 2, false",  // same term, shorter
      "9, 1, false",  // lower last term loses even if longer
  })
  void voterGrantsOnlyToCandidatesAtLeastAsUpToDate(long index, long logTerm, boolean granted) {
    Raft r = raft(1, voters(1, 2, 3), 1, 1, 2);
    r.step(msg(MessageType.VOTE, 2, 1, 3).index(index).logTerm(logTerm).build());
    Message resp = take(r).get(0);
    assertEquals(MessageType.VOTE_RESP, resp.type());
    assertEquals(!granted, resp.reject());
  }

  // §5.3 Log replication.

  @Test
  void leaderAppendsProposalAndReplicatesIt() {
    Raft r = raft(1, voters(1, 2, 3));
    becomeLeader(r);
    commitNoop(r);
    r.step(prop("x".getBytes()));
    assertEquals(2, r.log.lastIndex());
    assertEquals(r.term, r.log.term(2));
    List<Message> apps = take(r);
    assertEquals(2, apps.size());
    for (Message m : apps) {
      assertEquals(MessageType.APP, m.type());
      assertEquals(1, m.index(), "prev index");
      assertEquals(1, m.logTerm(), "prev term");
      assertEquals(1, m.commit());
      assertEquals(1, m.entries().size());
      assertArrayEquals("x".getBytes(), m.entries().get(0).data());
    }
  }

  @Test
  void leaderCommitsOnceAMajorityHasTheEntryAndTellsFollowers() {
    Raft r = raft(1, voters(1, 2, 3, 4, 5));
    becomeLeader(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    assertEquals(0, r.log.committed, "2 of 5 is not a majority");
    r.step(msg(MessageType.APP_RESP, 3, 1, r.term).index(1).build());
    assertEquals(1, r.log.committed);
    List<Message> msgs = take(r);
    assertTrue(msgs.stream().filter(m -> m.type() == MessageType.APP)
        .allMatch(m -> m.commit() == 1), "commit index reaches followers on the next APP");
  }

  @Test
  void followerCommitsUpToLeaderCommitButNotBeyondItsLog() {
    Raft r = raft(1, voters(1, 2, 3));
    r.step(msg(MessageType.APP, 2, 1, 1).index(0).logTerm(0).commit(5)
        .entries(entriesWithTerms(1, 1, 1)).build());
    assertEquals(2, r.log.committed, "min(leaderCommit, index of last new entry)");
    Message resp = take(r).get(0);
    assertEquals(MessageType.APP_RESP, resp.type());
    assertEquals(2, resp.index());
    assertFalse(resp.reject());
  }

  @Test
  void followerRejectsAppendWhosePreviousEntryDoesNotMatchWithHint() {
    Raft r = raft(1, voters(1, 2, 3), 1, 1, 2, 2, 2);
    r.becomeFollower(3, 2);
    // prev 5/3: our entry 5 has term 2. Hint: last index <= 5 with term <= 3 is 5 (term 2).
    r.step(msg(MessageType.APP, 2, 1, 3).index(5).logTerm(3).build());
    Message resp = take(r).get(0);
    assertTrue(resp.reject());
    assertEquals(5, resp.index());
    assertEquals(5, resp.rejectHint());
    assertEquals(2, resp.logTerm());
    // prev 7/3 beyond our log: the hint is our last index.
    r.step(msg(MessageType.APP, 2, 1, 3).index(7).logTerm(3).build());
    resp = take(r).get(0);
    assertTrue(resp.reject());
    assertEquals(5, resp.rejectHint());
  }

  @Test
  void followerDeletesConflictingEntriesAndAppendsNewOnes() {
    Raft r = raft(1, voters(1, 2, 3), 1, 1, 2, 2);
    r.becomeFollower(3, 2);
    r.step(msg(MessageType.APP, 2, 1, 3).index(2).logTerm(1)
        .entries(entriesWithTerms(3, 3)).build());
    assertArrayEquals(new long[] {1, 1, 3}, terms(RaftTestUtil.logEntries(r)));
    // An APP whose entries we already hold changes nothing (no truncation by a stale APP).
    r.step(msg(MessageType.APP, 2, 1, 3).index(1).logTerm(1)
        .entries(entriesWithTerms(2, 1)).build());
    assertArrayEquals(new long[] {1, 1, 3}, terms(RaftTestUtil.logEntries(r)));
  }

  @Test
  void leaderBacktracksToTheFollowersLastMatchingTermInOneRoundTrip() {
    // Leader log terms: 1 1 1 4 4 5 5 6 6 6 (figure 7's leader); follower: 1 1 1 2 2 2 3 3 3 3 3.
    Raft leader = raft(1, voters(1, 2, 3), 1, 1, 1, 4, 4, 5, 5, 6, 6, 6);
    Raft follower = raft(2, voters(1, 2, 3), 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3);
    leader.becomeFollower(7, Raft.NONE);
    becomeLeader(leader); // term 8, no-op at 11
    follower.becomeFollower(8, 1);
    TestNetwork net = new TestNetwork(leader, follower);
    int[] rejections = {0};
    net.filter(m -> {
      if (m.type() == MessageType.APP_RESP && m.reject()) {
        rejections[0]++;
      }
      return true;
    });
    leader.bcastAppend();
    net.flush();
    assertEquals(leader.log.lastIndex(), follower.log.lastIndex());
    assertArrayEquals(terms(RaftTestUtil.logEntries(leader)), terms(RaftTestUtil.logEntries(follower)));
    assertTrue(rejections[0] <= 2, "rejections: " + rejections[0]);
  }

  @Test
  void leaderBringsDivergentFollowersInSync() {
    long[][] followerLogs = {
        {1, 1, 1, 4, 4, 5, 5, 6, 6},          // (a) missing entries
        {1, 1, 1, 4},                         // (b)
        {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},    // (c) extra uncommitted entries
        {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}, // (d)
        {1, 1, 1, 4, 4, 4, 4},                // (e)
        {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},    // (f)
    };
    for (long[] followerLog : followerLogs) {
      Raft leader = raft(1, voters(1, 2, 3), 1, 1, 1, 4, 4, 5, 5, 6, 6, 6);
      leader.becomeFollower(8, Raft.NONE);
      Raft follower = raft(2, voters(1, 2, 3), followerLog);
      follower.becomeFollower(7, Raft.NONE);
      Raft third = raft(3, voters(1, 2, 3));
      TestNetwork net = new TestNetwork(leader, follower, third);
      net.local(1, MessageType.HUP);
      assertEquals(StateRole.LEADER, leader.role);
      net.propose(1, "x");
      assertArrayEquals(terms(RaftTestUtil.logEntries(leader)),
          terms(RaftTestUtil.logEntries(follower)));
    }
  }

  // §5.4.2 "Raft never commits log entries from previous terms by counting replicas."

  @Test
  void leaderCommitsPreviousTermEntriesOnlyWithAnEntryOfItsOwnTerm() {
    Raft r = raft(1, voters(1, 2, 3), 1, 2);
    r.becomeFollower(2, Raft.NONE);
    becomeLeader(r); // term 3; no-op at index 3
    // Follower 2 acknowledges index 2 (from term 2): a majority holds it, but it is not committed.
    r.step(msg(MessageType.APP_RESP, 2, 1, 3).index(2).build());
    assertEquals(0, r.log.committed);
    // Once the term-3 no-op is on a majority, it and everything before it commit.
    r.step(msg(MessageType.APP_RESP, 2, 1, 3).index(3).build());
    assertEquals(3, r.log.committed);
  }

  @Test
  void newLeaderAppendsNoopEntryOfItsTerm() {
    Raft r = raft(1, voters(1, 2, 3), 1, 1);
    r.becomeFollower(1, Raft.NONE);
    becomeLeader(r);
    assertEquals(3, r.log.lastIndex());
    assertEquals(2, r.log.term(3));
    assertEquals(0, r.log.slice(3, 4, Long.MAX_VALUE).get(0).data().length);
  }

  /** Commits the leader's no-op at index 1: every follower acknowledges it. */
  static void commitNoop(Raft leader) {
    for (long peer : leader.tracker.progressMap().keySet()) {
      if (peer != leader.id) {
        leader.step(msg(MessageType.APP_RESP, peer, leader.id, leader.term).index(1).build());
      }
    }
    take(leader);
  }
}
