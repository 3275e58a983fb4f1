package io.vigil.consensus.raft;

import static io.vigil.consensus.raft.RaftTestUtil.becomeLeader;
import static io.vigil.consensus.raft.RaftTestUtil.conf;
import static io.vigil.consensus.raft.RaftTestUtil.msg;
import static io.vigil.consensus.raft.RaftTestUtil.raft;
import static io.vigil.consensus.raft.RaftTestUtil.take;
import static io.vigil.consensus.raft.RaftTestUtil.voters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Thesis chapter 4: single-server membership changes and learners (non-voting members). */
class MembershipTest {

  private static Message confChange(ConfChange.Type type, long id) {
    return Message.builder(MessageType.PROP).entries(List.of(
        new Entry(0, 0, EntryType.CONF_CHANGE, new ConfChange(type, id).encode()))).build();
  }

  @Test
  void confChangeRoundTripsThroughItsEncoding() {
    for (ConfChange.Type t : ConfChange.Type.values()) {
      ConfChange cc = new ConfChange(t, 42);
      assertEquals(cc, ConfChange.decode(cc.encode()));
      ConfChange withContext = new ConfChange(t, -7, new byte[] {1, 2, 3});
      assertEquals(withContext, ConfChange.decode(withContext.encode()));
    }
    assertThrows(IllegalArgumentException.class, () -> ConfChange.decode(new byte[3]));
  }

  @Test
  void addingAVoterGrowsTheQuorum() {
    Raft r = raft(1, voters(1, 2));
    becomeLeader(r);
    assertEquals(2, r.tracker.quorum());
    r.applyConfChange(new ConfChange(ConfChange.Type.ADD_VOTER, 3));
    assertEquals(Set.of(1L, 2L, 3L), r.tracker.voters());
    assertEquals(2, r.tracker.quorum());
    r.applyConfChange(new ConfChange(ConfChange.Type.ADD_VOTER, 4));
    assertEquals(3, r.tracker.quorum());
    assertNotNull(r.tracker.progress(4));
    assertTrue(take(r).stream().anyMatch(m -> m.to() == 4 && m.type() == MessageType.APP),
        "the newcomer is probed at once");
  }

  @Test
  void removingAVoterCanCommitWithTheSmallerQuorum() {
    Raft r = raft(1, voters(1, 2, 3));
    becomeLeader(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    r.step(RaftTestUtil.prop("x".getBytes()));
    RaftTestUtil.persist(r);
    assertEquals(1, r.log.committed);
    r.applyConfChange(new ConfChange(ConfChange.Type.REMOVE, 2));
    r.applyConfChange(new ConfChange(ConfChange.Type.REMOVE, 3));
    assertEquals(2, r.log.committed, "alone, the leader is the quorum");
  }

  @Test
  void onlyOneConfChangeMayBePendingUntilApplied() {
    Raft r = raft(1, voters(1, 2, 3));
    becomeLeader(r);
    RaftPaperTest.commitNoop(r);
    r.log.appliedTo(1);
    assertTrue(r.step(confChange(ConfChange.Type.ADD_LEARNER, 4)));
    RaftTestUtil.persist(r);
    assertFalse(r.step(confChange(ConfChange.Type.ADD_LEARNER, 5)), "first one not applied yet");
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(2).build());
    r.log.appliedTo(2);
    r.applyConfChange(new ConfChange(ConfChange.Type.ADD_LEARNER, 4));
    assertTrue(r.step(confChange(ConfChange.Type.ADD_LEARNER, 5)));
  }

  @Test
  void newLeaderMayNotProposeConfChangeBeforeApplyingEarlierEntries() {
    Raft r = raft(1, voters(1, 2, 3), 1, 1);
    r.becomeFollower(1, Raft.NONE);
    becomeLeader(r);
    assertFalse(r.step(confChange(ConfChange.Type.ADD_LEARNER, 4)));
  }

  @Test
  void nonsensicalChangesAreDropped() {
    Raft r = raft(1, conf(new long[] {1, 2}, new long[] {3}));
    becomeLeader(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    r.log.appliedTo(1);
    assertFalse(r.step(confChange(ConfChange.Type.ADD_VOTER, 2)), "already a voter");
    assertFalse(r.step(confChange(ConfChange.Type.ADD_LEARNER, 2)), "demotion unsupported");
    assertFalse(r.step(confChange(ConfChange.Type.ADD_LEARNER, 3)), "already a learner");
    assertFalse(r.step(confChange(ConfChange.Type.REMOVE, 9)), "not a member");
    assertFalse(r.step(confChange(ConfChange.Type.UPDATE, 9)), "not a member");
  }

  @Test
  void anUpdateIsOrderedLikeAChangeAndLeavesTheConfigurationAlone() {
    Raft r = raft(1, conf(new long[] {1, 2}, new long[] {3}));
    becomeLeader(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    r.log.appliedTo(1);
    assertTrue(r.step(confChange(ConfChange.Type.UPDATE, 3)));
    assertFalse(r.step(confChange(ConfChange.Type.UPDATE, 2)), "one change at a time");
    ConfState before = r.tracker.confState();
    assertEquals(before, r.applyConfChange(new ConfChange(ConfChange.Type.UPDATE, 3, new byte[] {9})));
  }

  @Test
  void learnerIsPromotedOnlyOnceCaughtUp() {
    Raft r = raft(1, conf(new long[] {1, 2}, new long[] {3}));
    becomeLeader(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    r.log.appliedTo(1);
    assertFalse(r.step(confChange(ConfChange.Type.ADD_VOTER, 3)), "learner has nothing yet");
    r.step(msg(MessageType.APP_RESP, 3, 1, r.term).index(1).build());
    assertTrue(r.step(confChange(ConfChange.Type.ADD_VOTER, 3)));
    r.applyConfChange(new ConfChange(ConfChange.Type.ADD_VOTER, 3));
    assertTrue(r.tracker.isVoter(3));
    assertEquals(1, r.tracker.progress(3).match, "promotion keeps the learner's progress");
  }

  @Test
  void aLearnersProposalReachesTheLeaderAndIsCommitted() {
    // members publish their attributes through the log, learners too (etcd forwards theirs)
    TestNetwork net = new TestNetwork(
        raft(1, conf(new long[] {1, 2}, new long[] {3})),
        raft(2, conf(new long[] {1, 2}, new long[] {3})),
        raft(3, conf(new long[] {1, 2}, new long[] {3})));
    net.local(1, MessageType.HUP);
    net.propose(3, "from the learner");
    Raft leader = net.get(1);
    List<Entry> log = RaftTestUtil.logEntries(leader);
    assertEquals("from the learner", new String(log.get(log.size() - 1).data()));
    assertEquals(leader.log.lastIndex(), leader.log.committed);
    assertEquals(leader.log.lastIndex(), net.get(3).log.lastIndex());
  }

  @Test
  void learnersReceiveTheLogButNeitherVoteNorCountNorCampaign() {
    TestNetwork net = new TestNetwork(
        raft(1, conf(new long[] {1, 2}, new long[] {3})),
        raft(2, conf(new long[] {1, 2}, new long[] {3})),
        raft(3, conf(new long[] {1, 2}, new long[] {3})));
    net.local(1, MessageType.HUP);
    assertEquals(StateRole.LEADER, net.get(1).role);
    net.propose(1, "x");
    assertEquals(net.get(1).log.lastIndex(), net.get(3).log.lastIndex(), "learner has the log");
    Raft leader = net.get(1);
    net.cut(1, 2);
    net.propose(1, "y");
    assertEquals(2, leader.log.committed, "the learner's copy does not count toward commit");
    Raft learner = net.get(3);
    RaftTestUtil.tick(learner, 5 * RaftTestUtil.ELECTION);
    assertEquals(StateRole.FOLLOWER, learner.role, "learners never campaign");
    assertTrue(take(learner).isEmpty());
  }

  @Test
  void removedLeaderHandsOffAndStepsDown() {
    Raft r = raft(1, voters(1, 2, 3));
    becomeLeader(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    take(r);
    r.applyConfChange(new ConfChange(ConfChange.Type.REMOVE, 1));
    assertEquals(StateRole.FOLLOWER, r.role);
    List<Message> msgs = take(r);
    assertEquals(1, msgs.size());
    assertEquals(MessageType.TIMEOUT_NOW, msgs.get(0).type());
    assertEquals(2, msgs.get(0).to(), "to the voter that holds the whole log");
    RaftTestUtil.tick(r, 5 * RaftTestUtil.ELECTION);
    assertFalse(r.promotable());
    assertEquals(StateRole.FOLLOWER, r.role, "a removed node never campaigns");
  }

  @Test
  void nodeWithCommittedButUnappliedConfChangeDoesNotCampaign() {
    MemoryStorage s = RaftTestUtil.storage(voters(1, 2, 3));
    s.append(List.of(new Entry(1, 1, EntryType.CONF_CHANGE,
        new ConfChange(ConfChange.Type.REMOVE, 3).encode())));
    s.setHardState(new HardState(1, 0, 1));
    Raft r = new Raft(RaftTestUtil.config(1).build(), s);
    RaftTestUtil.electionTimeout(r);
    assertEquals(StateRole.FOLLOWER, r.role);
    r.log.appliedTo(1);
    r.applyConfChange(new ConfChange(ConfChange.Type.REMOVE, 3));
    RaftTestUtil.electionTimeout(r);
    assertEquals(StateRole.CANDIDATE, r.role);
  }

  @Test
  void newNodeWithEmptyLogCatchesUpFromLeaderAndLearnsTheConfiguration() {
    MemoryStorage leaderStorage = RaftTestUtil.storage(voters(1), 1, 1, 1);
    leaderStorage.createSnapshot(3, conf(new long[] {1}, new long[] {2}), "img".getBytes());
    leaderStorage.compact(3);
    Raft leader = new Raft(RaftTestUtil.config(1).build(), leaderStorage);
    leader.becomeFollower(1, Raft.NONE);
    leader.becomeCandidate();
    leader.becomeLeader();
    // its no-op commits once persisted, and the learner is probed: keep that message for the network
    RaftTestUtil.persist(leader);
    leader.applyConfChange(new ConfChange(ConfChange.Type.ADD_LEARNER, 2));
    Raft joiner = new Raft(RaftTestUtil.config(2).build(), new MemoryStorage());
    TestNetwork net = new TestNetwork(leader, joiner);
    net.flush();
    assertEquals(leader.log.lastIndex(), joiner.log.lastIndex());
    assertNotNull(joiner.log.unstableSnapshot(), "caught up through the leader's snapshot");
    assertEquals(3, joiner.log.unstableSnapshot().index());
    assertEquals(conf(new long[] {1}, new long[] {2}), joiner.tracker.confState());
    assertFalse(joiner.promotable());
  }
}
