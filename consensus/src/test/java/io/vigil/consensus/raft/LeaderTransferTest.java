package io.vigil.consensus.raft;

import static io.vigil.consensus.raft.RaftTestUtil.ELECTION;
import static io.vigil.consensus.raft.RaftTestUtil.take;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Thesis §3.10: leadership transfer with TimeoutNow. */
class LeaderTransferTest {

  private static TestNetwork clusterWithLeader1() {
    TestNetwork net = TestNetwork.ofSize(3, b -> b.checkQuorum(true).preVote(true));
    net.local(1, MessageType.HUP);
    assertEquals(StateRole.LEADER, net.get(1).role);
    return net;
  }

  private static void transfer(TestNetwork net, long leader, long to) {
    net.get(leader).step(Message.builder(MessageType.TRANSFER_LEADER).from(to).build());
    net.flush();
  }

  @Test
  void upToDateTransfereeGetsTimeoutNowAndWinsDespiteLeaseAndPreVote() {
    TestNetwork net = clusterWithLeader1();
    long term = net.get(1).term;
    transfer(net, 1, 2);
    assertEquals(StateRole.LEADER, net.get(2).role);
    assertEquals(StateRole.FOLLOWER, net.get(1).role);
    assertEquals(term + 1, net.get(2).term);
  }

  @Test
  void laggingTransfereeIsCaughtUpFirst() {
    TestNetwork net = clusterWithLeader1();
    net.isolate(3);
    net.propose(1, "a");
    net.propose(1, "b");
    net.recover();
    int[] timeoutNows = {0};
    net.filter(m -> {
      if (m.type() == MessageType.TIMEOUT_NOW) {
        assertEquals(net.get(1).log.lastIndex(), net.get(3).log.lastIndex(),
            "TimeoutNow only once the transferee holds the whole log");
        timeoutNows[0]++;
      }
      return true;
    });
    transfer(net, 1, 3);
    assertEquals(1, timeoutNows[0]);
    assertEquals(StateRole.LEADER, net.get(3).role);
  }

  @Test
  void proposalsAreDroppedWhileTransferringAndTransferAbortsAfterElectionTimeout() {
    TestNetwork net = clusterWithLeader1();
    net.isolate(3);
    transfer(net, 1, 3);
    Raft leader = net.get(1);
    assertEquals(3, leader.leadTransferee);
    assertFalse(leader.step(RaftTestUtil.prop("x".getBytes())), "dropped during transfer");
    for (int i = 0; i < ELECTION; i++) {
      leader.tick();
      leader.step(RaftTestUtil.msg(MessageType.HEARTBEAT_RESP, 2, 1, leader.term).build());
      take(leader);
    }
    assertEquals(StateRole.LEADER, leader.role);
    assertEquals(Raft.NONE, leader.leadTransferee);
    assertTrue(leader.step(RaftTestUtil.prop("x".getBytes())));
  }

  @Test
  void transferToLearnerOrSelfIsIgnored() {
    Raft r = RaftTestUtil.raft(1, RaftTestUtil.conf(new long[] {1, 2}, new long[] {3}));
    RaftTestUtil.becomeLeader(r);
    r.step(Message.builder(MessageType.TRANSFER_LEADER).from(3).build());
    r.step(Message.builder(MessageType.TRANSFER_LEADER).from(1).build());
    assertEquals(Raft.NONE, r.leadTransferee);
  }

  @Test
  void followerForwardsTransferRequestToLeader() {
    TestNetwork net = clusterWithLeader1();
    net.get(3).step(Message.builder(MessageType.TRANSFER_LEADER).from(3).build());
    net.flush();
    assertEquals(StateRole.LEADER, net.get(3).role);
  }
}
