package io.vigil.consensus.raft;

import static io.vigil.consensus.raft.RaftTestUtil.becomeLeader;
import static io.vigil.consensus.raft.RaftTestUtil.msg;
import static io.vigil.consensus.raft.RaftTestUtil.raft;
import static io.vigil.consensus.raft.RaftTestUtil.take;
import static io.vigil.consensus.raft.RaftTestUtil.voters;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Thesis §6.4: linearizable reads without writing to the log, batched per heartbeat round. */
class ReadIndexTest {

  private static Message read(String ctx) {
    return Message.builder(MessageType.READ_INDEX).context(ctx.getBytes()).build();
  }

  private static Raft leaderWithCommittedNoop() {
    Raft r = raft(1, voters(1, 2, 3));
    becomeLeader(r);
    RaftPaperTest.commitNoop(r);
    return r;
  }

  @Test
  void thousandsOfReadsCostOneHeartbeatRound() {
    Raft r = leaderWithCommittedNoop();
    for (int i = 0; i < 5000; i++) {
      r.step(read("r" + i));
    }
    assertTrue(take(r).isEmpty(), "nothing is sent per read");
    r.flushReadRound(); // what RawNode.ready() does
    List<Message> beats = take(r);
    assertEquals(2, beats.size(), "one heartbeat per follower for all 5000 reads");
    long round = beats.get(0).index();
    assertTrue(r.readStates.isEmpty(), "not before a quorum confirms leadership");
    r.step(msg(MessageType.HEARTBEAT_RESP, 2, 1, r.term).index(round).build());
    assertEquals(5000, r.readStates.size());
    assertTrue(r.readStates.stream().allMatch(rs -> rs.index() == 1));
    assertArrayEquals("r0".getBytes(), r.readStates.get(0).requestContext());
  }

  @Test
  void anAckOfAnEarlierRoundDoesNotConfirmLaterReads() {
    Raft r = leaderWithCommittedNoop();
    r.step(read("a"));
    r.flushReadRound();
    long first = take(r).get(0).index();
    r.step(read("b"));
    r.flushReadRound();
    take(r);
    r.step(msg(MessageType.HEARTBEAT_RESP, 2, 1, r.term).index(first).build());
    assertEquals(1, r.readStates.size());
    assertArrayEquals("a".getBytes(), r.readStates.get(0).requestContext());
    r.step(msg(MessageType.HEARTBEAT_RESP, 3, 1, r.term).index(first + 1).build());
    assertEquals(2, r.readStates.size());
  }

  @Test
  void readIndexIsTheCommitIndexAtArrival() {
    Raft r = leaderWithCommittedNoop();
    r.step(read("a"));
    r.step(RaftTestUtil.prop("w".getBytes()));
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(2).build()); // commit moves to 2
    r.flushReadRound();
    long round = take(r, MessageType.HEARTBEAT).get(0).index();
    r.step(msg(MessageType.HEARTBEAT_RESP, 2, 1, r.term).index(round).build());
    assertEquals(1, r.readStates.get(0).index());
  }

  @Test
  void newLeaderHoldsReadsUntilItCommitsAnEntryOfItsTerm() {
    Raft r = raft(1, voters(1, 2, 3));
    becomeLeader(r);
    r.step(read("early"));
    r.flushReadRound();
    assertTrue(take(r, MessageType.HEARTBEAT).isEmpty(), "the commit index may still be stale");
    RaftPaperTest.commitNoop(r);
    r.flushReadRound();
    long round = take(r, MessageType.HEARTBEAT).get(0).index();
    r.step(msg(MessageType.HEARTBEAT_RESP, 3, 1, r.term).index(round).build());
    assertEquals(List.of(1L), r.readStates.stream().map(ReadState::index).toList());
  }

  @Test
  void singleVoterAnswersImmediately() {
    Raft r = raft(1, voters(1));
    r.step(Message.builder(MessageType.HUP).from(1).build());
    assertEquals(StateRole.LEADER, r.role);
    RaftTestUtil.persist(r); // the no-op commits once it is durable: a quorum of one
    r.step(read("solo"));
    assertEquals(1, r.readStates.size());
    assertEquals(1, r.readStates.get(0).index());
  }

  @Test
  void followerForwardsToLeaderAndGetsTheIndexBack() {
    TestNetwork net = TestNetwork.ofSize(3, b -> { });
    net.local(1, MessageType.HUP);
    net.propose(1, "x");
    Raft follower = net.get(2);
    follower.step(read("via-follower"));
    net.flush();
    Raft leader = net.get(1);
    leader.flushReadRound();
    net.flush();
    assertEquals(1, follower.readStates.size());
    assertEquals(leader.log.committed, follower.readStates.get(0).index());
    assertTrue(leader.readStates.isEmpty());
  }

  @Test
  void readsAreDroppedWithoutALeader() {
    Raft r = raft(1, voters(1, 2, 3));
    assertEquals(false, r.step(read("nobody")));
  }

  @Test
  void losingLeadershipDropsQueuedReads() {
    Raft r = leaderWithCommittedNoop();
    r.step(read("lost"));
    r.flushReadRound();
    long round = take(r).get(0).index();
    r.step(msg(MessageType.APP, 2, 1, r.term + 1).build());
    r.step(msg(MessageType.HEARTBEAT_RESP, 3, 1, r.term).index(round).build());
    assertTrue(r.readStates.isEmpty());
  }
}
