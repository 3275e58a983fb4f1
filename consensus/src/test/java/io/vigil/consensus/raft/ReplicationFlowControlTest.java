package io.vigil.consensus.raft;

import static io.vigil.consensus.raft.RaftTestUtil.becomeLeader;
import static io.vigil.consensus.raft.RaftTestUtil.msg;
import static io.vigil.consensus.raft.RaftTestUtil.prop;
import static io.vigil.consensus.raft.RaftTestUtil.raft;
import static io.vigil.consensus.raft.RaftTestUtil.storage;
import static io.vigil.consensus.raft.RaftTestUtil.take;
import static io.vigil.consensus.raft.RaftTestUtil.voters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Pipelining, batching and per-follower flow control (probe / replicate / snapshot). */
class ReplicationFlowControlTest {

  private static Raft leader(java.util.function.Consumer<Config.Builder> tweak) {
    Raft r = raft(1, storage(voters(1, 2)), tweak);
    becomeLeader(r);
    return r;
  }

  private static byte[] bytes(int n) {
    return new byte[n];
  }

  @Test
  void probeSendsOneAppendAndWaitsForItsAnswer() {
    Raft r = leader(b -> { });
    r.bcastAppend();
    assertEquals(1, take(r).size());
    r.step(prop(bytes(1)));
    r.step(prop(bytes(1)));
    assertTrue(take(r).isEmpty(), "paused while the probe is outstanding");
    assertEquals(Progress.State.PROBE, r.tracker.progress(2).state);
    r.step(msg(MessageType.HEARTBEAT_RESP, 2, 1, r.term).build());
    assertEquals(1, take(r, MessageType.APP).size(), "a heartbeat response resumes probing");
  }

  @Test
  void replicatePipelinesUpToMaxInflightMsgs() {
    Raft r = leader(b -> b.maxInflightMsgs(3));
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    assertEquals(Progress.State.REPLICATE, r.tracker.progress(2).state);
    take(r);
    for (int i = 0; i < 5; i++) {
      r.step(prop(bytes(1)));
    }
    assertEquals(3, take(r, MessageType.APP).size(), "three in flight, then paused");
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(3).build()); // acks the first two
    List<Message> apps = take(r, MessageType.APP);
    assertEquals(1, apps.size(), "the reopened window is filled with one batch");
    assertEquals(List.of(5L, 6L), apps.get(0).entries().stream().map(Entry::index).toList());
    assertEquals(2, r.tracker.progress(2).inflights.count());
  }

  @Test
  void inflightBytesBoundThePipelineToo() {
    Raft r = leader(b -> b.maxSizePerMsgBytes(100).maxInflightBytes(250));
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    take(r);
    for (int i = 0; i < 10; i++) {
      r.step(prop(bytes(100 - Entry.OVERHEAD_BYTES)));
    }
    assertEquals(3, take(r, MessageType.APP).size(), "100 + 100 + 100 >= 250 bytes");
    assertTrue(r.tracker.progress(2).isPaused());
  }

  @Test
  void batchingRespectsMaxSizePerMsg() {
    Raft r = leader(b -> b.maxSizePerMsgBytes(3L * (10 + Entry.OVERHEAD_BYTES)));
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    take(r);
    r.tracker.progress(2).becomeProbe(); // accumulate while paused, then send in batches
    r.tracker.progress(2).probeSent = true;
    for (int i = 0; i < 7; i++) {
      r.step(prop(bytes(10)));
    }
    take(r);
    r.step(msg(MessageType.HEARTBEAT_RESP, 2, 1, r.term).build());
    List<Message> apps = take(r, MessageType.APP);
    assertEquals(1, apps.size());
    assertEquals(3, apps.get(0).entries().size());
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(apps.get(0).entries().get(2).index())
        .build());
    List<Message> rest = take(r, MessageType.APP);
    assertEquals(List.of(3, 1), rest.stream().map(m -> m.entries().size()).toList(),
        "the remaining four entries go pipelined in batches of three");
  }

  @Test
  void heartbeatResponseFreesOneSlotOfAFullWindow() {
    Raft r = leader(b -> b.maxInflightMsgs(1));
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    take(r);
    r.step(prop(bytes(1)));
    r.step(prop(bytes(1)));
    assertEquals(1, take(r, MessageType.APP).size());
    r.step(msg(MessageType.HEARTBEAT_RESP, 2, 1, r.term).build());
    assertEquals(1, take(r, MessageType.APP).size());
  }

  @Test
  void rejectionInReplicateFallsBackToProbeAtTheHint() {
    Raft r = leader(b -> { });
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    for (int i = 0; i < 3; i++) {
      r.step(prop(bytes(1)));
    }
    take(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(2).reject(true).rejectHint(1)
        .logTerm(1).build());
    Progress pr = r.tracker.progress(2);
    assertEquals(Progress.State.PROBE, pr.state);
    List<Message> apps = take(r, MessageType.APP);
    assertEquals(1, apps.size());
    assertEquals(1, apps.get(0).index(), "resend from after the last match");
  }

  @Test
  void staleRejectionIsIgnored() {
    Raft r = leader(b -> { });
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).build());
    r.step(prop(bytes(1)));
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(2).build());
    take(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(1).reject(true).rejectHint(0).build());
    assertEquals(Progress.State.REPLICATE, r.tracker.progress(2).state);
    assertEquals(2, r.tracker.progress(2).match);
  }

  @Test
  void followerBehindCompactionGetsSnapshotAndResumesAfterIt() {
    MemoryStorage s = storage(voters(1, 2), 1, 1, 1, 1, 1);
    s.createSnapshot(4, voters(1, 2), "image".getBytes());
    s.compact(4);
    Raft r = raft(1, s, b -> { });
    r.becomeFollower(1, Raft.NONE);
    becomeLeader(r);
    // Follower has nothing: its hint sends the leader below the first index.
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(5).reject(true).rejectHint(0).build());
    List<Message> msgs = take(r);
    assertEquals(MessageType.SNAP, msgs.get(0).type());
    assertEquals(4, msgs.get(0).snapshot().index());
    Progress pr = r.tracker.progress(2);
    assertEquals(Progress.State.SNAPSHOT, pr.state);
    r.step(prop(bytes(1)));
    assertTrue(take(r, MessageType.APP).isEmpty(), "nothing else while the snapshot is in flight");
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(4).build());
    assertEquals(Progress.State.REPLICATE, pr.state);
    assertEquals(1, take(r, MessageType.APP).size());
  }

  @Test
  void aNewerSnapshotThanAskedForIsProbedFromItsOwnIndex() {
    MemoryStorage s = storage(voters(1, 2), 1, 1, 1, 1, 1, 1, 1, 1);
    s.createSnapshot(3, voters(1, 2), null);
    s.compact(3);
    Raft r = raft(1, s, b -> { });
    r.becomeFollower(1, Raft.NONE);
    becomeLeader(r);
    // follower 2 has nothing: its rejection of the probe after 8 sends the leader below the first index
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(8).reject(true).rejectHint(0).build());
    assertEquals(3, take(r).stream().filter(m -> m.type() == MessageType.SNAP).findFirst().orElseThrow().snapshot().index());
    // the state machine shipped its store at index 7; meanwhile the log compacts past 3
    s.createSnapshot(6, voters(1, 2), null);
    s.compact(6);
    r.step(Message.builder(MessageType.SNAP_STATUS).from(2).index(7).build());
    Progress pr = r.tracker.progress(2);
    assertEquals(Progress.State.PROBE, pr.state);
    assertEquals(8, pr.next, "probe from after the snapshot delivered, which the log still has");
    r.step(msg(MessageType.HEARTBEAT_RESP, 2, 1, r.term).build());
    List<Message> sent = take(r);
    assertTrue(sent.stream().noneMatch(m -> m.type() == MessageType.SNAP), "no second snapshot: " + sent);
    assertEquals(7, sent.stream().filter(m -> m.type() == MessageType.APP).findFirst().orElseThrow().index());
  }

  @Test
  void failedSnapshotIsRetriedAfterAHeartbeat() {
    MemoryStorage s = storage(voters(1, 2), 1, 1, 1);
    s.createSnapshot(3, voters(1, 2), null);
    s.compact(3);
    Raft r = raft(1, s, b -> { });
    r.becomeFollower(1, Raft.NONE);
    becomeLeader(r);
    r.step(msg(MessageType.APP_RESP, 2, 1, r.term).index(3).reject(true).rejectHint(0).build());
    assertEquals(MessageType.SNAP, take(r).get(0).type());
    r.step(Message.builder(MessageType.SNAP_STATUS).from(2).reject(true).build());
    Progress pr = r.tracker.progress(2);
    assertEquals(Progress.State.PROBE, pr.state);
    assertTrue(pr.isPaused());
    r.step(msg(MessageType.HEARTBEAT_RESP, 2, 1, r.term).build());
    assertEquals(MessageType.SNAP, take(r).get(0).type());
  }

  @Test
  void followerInstallsSnapshotAndAnswersWithItsIndex() {
    Raft f = raft(2, voters(1, 2));
    Snapshot snap = new Snapshot(10, 3, RaftTestUtil.voters(1, 2, 3), "img".getBytes());
    f.step(msg(MessageType.SNAP, 1, 2, 3).snapshot(snap).build());
    assertEquals(10, f.log.committed);
    assertEquals(10, f.log.lastIndex());
    assertEquals(3, f.tracker.voters().size(), "configuration comes with the snapshot");
    Message resp = take(f).get(0);
    assertEquals(10, resp.index());
    // An old snapshot is not installed twice.
    f.step(msg(MessageType.SNAP, 1, 2, 3).snapshot(new Snapshot(8, 3, voters(1, 2), null)).build());
    assertEquals(10, take(f).get(0).index());
  }
}
