package io.vigil.consensus.raft;

import static io.vigil.consensus.raft.RaftTestUtil.ELECTION;
import static io.vigil.consensus.raft.RaftTestUtil.becomeLeader;
import static io.vigil.consensus.raft.RaftTestUtil.msg;
import static io.vigil.consensus.raft.RaftTestUtil.raft;
import static io.vigil.consensus.raft.RaftTestUtil.storage;
import static io.vigil.consensus.raft.RaftTestUtil.take;
import static io.vigil.consensus.raft.RaftTestUtil.voters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Thesis §9.6 (PreVote) and §6.2 / §4.2.3 (CheckQuorum and the leader lease). */
class PreVoteAndCheckQuorumTest {

  private static Raft preVoteRaft(long id, long... terms) {
    return raft(id, storage(voters(1, 2, 3), terms), b -> b.preVote(true));
  }

  @Test
  void preCandidateDoesNotIncrementTermAndAsksForTheNextTerm() {
    Raft r = preVoteRaft(1);
    r.step(Message.builder(MessageType.HUP).from(1).build());
    assertEquals(StateRole.PRE_CANDIDATE, r.role);
    assertEquals(0, r.term);
    assertEquals(Raft.NONE, r.vote, "PreVote does not vote");
    List<Message> msgs = take(r);
    assertEquals(2, msgs.size());
    msgs.forEach(m -> {
      assertEquals(MessageType.PRE_VOTE, m.type());
      assertEquals(1, m.term());
    });
  }

  @Test
  void preVoteQuorumStartsARealElection() {
    Raft r = preVoteRaft(1);
    r.step(Message.builder(MessageType.HUP).from(1).build());
    take(r);
    r.step(msg(MessageType.PRE_VOTE_RESP, 2, 1, 1).build());
    assertEquals(StateRole.CANDIDATE, r.role);
    assertEquals(1, r.term);
    assertTrue(take(r).stream().allMatch(m -> m.type() == MessageType.VOTE && m.term() == 1));
  }

  @Test
  void preVoteReceiverKeepsItsTermAndVote() {
    Raft r = preVoteRaft(2);
    r.step(msg(MessageType.PRE_VOTE, 1, 2, 1).build());
    assertEquals(0, r.term);
    assertEquals(Raft.NONE, r.vote);
    Message resp = take(r).get(0);
    assertEquals(MessageType.PRE_VOTE_RESP, resp.type());
    assertFalse(resp.reject());
    assertEquals(1, resp.term(), "granted PreVote carries the request's term");
  }

  @Test
  void rejectedPreVoteFromHigherTermMakesCandidateFollowAtThatTerm() {
    Raft r = preVoteRaft(1);
    r.step(Message.builder(MessageType.HUP).from(1).build());
    r.step(msg(MessageType.PRE_VOTE_RESP, 2, 1, 5).reject(true).build());
    assertEquals(StateRole.FOLLOWER, r.role);
    assertEquals(5, r.term);
  }

  @Test
  void partitionedNodeWithPreVoteDoesNotDisruptTheClusterOnRejoin() {
    TestNetwork net = TestNetwork.ofSize(3, b -> b.preVote(true));
    net.local(1, MessageType.HUP);
    assertEquals(StateRole.LEADER, net.get(1).role);
    long term = net.get(1).term;
    net.isolate(3);
    for (int i = 0; i < 5; i++) {
      net.get(3).step(Message.builder(MessageType.HUP).from(3).build());
      take(net.get(3));
    }
    assertEquals(term, net.get(3).term, "PreVote failed, so the term never moved");
    net.propose(1, "written while 3 was away");
    net.recover();
    net.local(3, MessageType.HUP); // the others' logs are newer: PreVote fails again
    assertEquals(StateRole.LEADER, net.get(1).role);
    assertEquals(term, net.get(1).term, "the leader's term is undisturbed");
  }

  @Test
  void withoutPreVoteARejoiningNodeForcesATermChange() {
    TestNetwork net = TestNetwork.ofSize(3, b -> { });
    net.local(1, MessageType.HUP);
    long term = net.get(1).term;
    net.isolate(3);
    net.get(3).step(Message.builder(MessageType.HUP).from(3).build());
    take(net.get(3));
    net.propose(1, "written while 3 was away");
    net.recover();
    net.local(3, MessageType.HUP);
    assertTrue(net.get(1).term > term, "contrast with the PreVote test above");
  }

  @Test
  void leaderStepsDownWhenQuorumIsNotActiveForAnElectionTimeout() {
    Raft r = raft(1, storage(voters(1, 2, 3)), b -> b.checkQuorum(true));
    becomeLeader(r);
    RaftTestUtil.tick(r, ELECTION); // first check: newcomers count as active
    assertEquals(StateRole.LEADER, r.role);
    RaftTestUtil.tick(r, ELECTION);
    assertEquals(StateRole.FOLLOWER, r.role);
    assertEquals(Raft.NONE, r.leaderId);
  }

  @Test
  void leaderWithActiveQuorumStaysLeader() {
    Raft r = raft(1, storage(voters(1, 2, 3)), b -> b.checkQuorum(true));
    becomeLeader(r);
    for (int i = 0; i < 5 * ELECTION; i++) {
      r.tick();
      r.step(msg(MessageType.HEARTBEAT_RESP, 2, 1, r.term).build());
      take(r);
    }
    assertEquals(StateRole.LEADER, r.role);
  }

  @Test
  void followerInLeaseIgnoresHigherTermVoteRequests() {
    Raft r = raft(2, storage(voters(1, 2, 3)), b -> b.checkQuorum(true));
    r.step(msg(MessageType.HEARTBEAT, 1, 2, 1).build());
    take(r);
    r.step(msg(MessageType.VOTE, 3, 2, 2).build());
    assertEquals(1, r.term, "lease: term unchanged");
    assertTrue(take(r).isEmpty(), "no vote granted or rejected");
    RaftTestUtil.tick(r, ELECTION); // lease expires with the minimum election timeout
    r.step(msg(MessageType.VOTE, 3, 2, 2).build());
    assertEquals(2, r.term);
    assertFalse(take(r).get(0).reject());
  }

  @Test
  void staleLeaderLearnsTheNewTermFromRejectedHeartbeats() {
    Raft r = raft(2, storage(voters(1, 2, 3)), b -> b.checkQuorum(true));
    r.becomeFollower(5, 3);
    r.step(msg(MessageType.HEARTBEAT, 1, 2, 4).build());
    Message resp = take(r).get(0);
    assertEquals(MessageType.APP_RESP, resp.type());
    assertEquals(5, resp.term());
    Raft old = raft(1, storage(voters(1, 2, 3)), b -> b.checkQuorum(true));
    old.becomeFollower(3, Raft.NONE);
    becomeLeader(old); // term 4
    old.step(resp);
    assertEquals(StateRole.FOLLOWER, old.role);
    assertEquals(5, old.term);
  }
}
