package io.vigil.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The public API: the Ready handoff, its acknowledgement, restarts and config validation. */
class RawNodeTest {

  private static RawNode single(MemoryStorage s) {
    return new RawNode(Config.builder().id(1).randomSeed(7).build(), s);
  }

  /** Persists, applies and acknowledges, returning what was applied. */
  private static List<Entry> handle(RawNode n, MemoryStorage s) {
    List<Entry> applied = new ArrayList<>();
    while (n.hasReady()) {
      Ready rd = n.ready();
      rd.snapshot().ifPresent(s::applySnapshot);
      s.append(rd.entries());
      rd.hardState().ifPresent(s::setHardState);
      applied.addAll(rd.committedEntries());
      n.advance(rd);
    }
    return applied;
  }

  @Test
  void singleNodeElectsItselfAndCommitsThroughReady() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L), null);
    RawNode n = single(s);
    n.campaign();
    Ready rd = n.ready();
    assertEquals(new SoftState(1, StateRole.LEADER), rd.softState().orElseThrow());
    assertEquals(2, rd.hardState().orElseThrow().term());
    assertTrue(rd.mustSync());
    assertEquals(1, rd.entries().size(), "the no-op");
    s.append(rd.entries());
    s.setHardState(rd.hardState().get());
    n.advance(rd);
    handle(n, s);
    assertTrue(n.propose("a".getBytes()));
    List<Entry> applied = handle(n, s);
    assertEquals("a", new String(applied.get(applied.size() - 1).data()));
    assertFalse(n.hasReady());
    assertEquals(3, s.hardState().commit());
  }

  @Test
  void unchangedStateIsNotHandedOutAgain() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L), null);
    RawNode n = single(s);
    n.campaign();
    handle(n, s);
    n.tick(); // a lone leader's heartbeat has no one to go to
    assertFalse(n.hasReady());
  }

  @Test
  void readyMustBeAdvancedBeforeTheNext() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L), null);
    RawNode n = single(s);
    n.campaign();
    Ready rd = n.ready();
    assertFalse(n.hasReady());
    assertThrows(IllegalStateException.class, n::ready);
    n.advance(rd);
    assertThrows(IllegalStateException.class, () -> n.advance(rd));
  }

  @Test
  void localMessageTypesCannotArriveFromPeers() {
    RawNode n = single(MemoryStorage.bootstrap(ConfState.ofVoters(1L), null));
    assertThrows(IllegalArgumentException.class,
        () -> n.step(Message.builder(MessageType.HUP).from(2).build()));
  }

  @Test
  void restartResumesFromPersistedStateWithoutReapplying() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L), null);
    RawNode n = single(s);
    n.campaign();
    handle(n, s);
    n.propose("a".getBytes());
    n.propose("b".getBytes());
    handle(n, s);
    RawNode restarted = new RawNode(Config.builder().id(1).randomSeed(8).applied(3).build(), s);
    Status st = restarted.status();
    assertEquals(s.hardState(), st.hardState());
    assertEquals(StateRole.FOLLOWER, st.softState().role());
    List<Entry> applied = handle(restarted, s);
    assertEquals(List.of(4L), applied.stream().map(Entry::index).toList(),
        "only entries after Config.applied are handed out again");
  }

  /** Proposals joined into one (RaftNode's batching) are appended in order, or dropped together. */
  @Test
  void proposalsJoinedIntoOneAreAppendedInOrderOrDroppedTogether() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L, 2L), null);
    RawNode follower = new RawNode(Config.builder().id(1).randomSeed(3).build(), s);
    assertFalse(follower.propose(List.of("a".getBytes(), "b".getBytes())), "no leader: dropped");

    MemoryStorage alone = MemoryStorage.bootstrap(ConfState.ofVoters(1L), null);
    RawNode n = single(alone);
    n.campaign();
    handle(n, alone);
    assertTrue(n.propose(List.of("a".getBytes(), "b".getBytes(), "c".getBytes())));
    List<Entry> applied = handle(n, alone);
    assertEquals(List.of("a", "b", "c"), applied.stream().map(e -> new String(e.data())).toList());
    long first = applied.get(0).index();
    assertEquals(List.of(first, first + 1, first + 2), applied.stream().map(Entry::index).toList());
  }

  /** What a leader may drop from its in-memory log: below the lowest match of the others. */
  @Test
  void lowestPeerMatchIsTheLeadersViewOfTheSlowestOtherMember() {
    RawNode alone = single(MemoryStorage.bootstrap(ConfState.ofVoters(1L), null));
    assertEquals(0, alone.lowestPeerMatch(), "a follower knows nothing of the others");
    alone.campaign();
    assertEquals(Long.MAX_VALUE, alone.lowestPeerMatch(), "a leader alone: no one needs its entries");

    RawNode n = new RawNode(Config.builder().id(1).randomSeed(5).build(),
        MemoryStorage.bootstrap(ConfState.ofVoters(1L, 2L, 3L), null));
    RaftTestUtil.becomeLeader(n.raft());
    long term = n.raft().term;
    long last = n.raft().log.lastIndex();
    assertEquals(0, n.lowestPeerMatch(), "nothing acknowledged yet");
    n.step(Message.builder(MessageType.APP_RESP).from(2).to(1).term(term).index(last).build());
    n.step(Message.builder(MessageType.APP_RESP).from(3).to(1).term(term).index(last - 1).build());
    assertEquals(last - 1, n.lowestPeerMatch());
    n.step(Message.builder(MessageType.APP_RESP).from(3).to(1).term(term).index(last).build());
    assertEquals(last, n.lowestPeerMatch());

    // an entry the followers acknowledge before the leader's own write of it is durable: the
    // leader's match stays at last, below theirs
    assertTrue(n.propose("x".getBytes()));
    n.step(Message.builder(MessageType.APP_RESP).from(2).to(1).term(term).index(last + 1).build());
    n.step(Message.builder(MessageType.APP_RESP).from(3).to(1).term(term).index(last + 1).build());
    assertEquals(last, n.raft().tracker.progressMap().get(1L).match, "the leader's own write is not durable yet");
    assertEquals(last + 1, n.lowestPeerMatch(), "the leader's own match does not count");
  }

  @Test
  void restartToleratesASnapshotPersistedWithoutItsHardState() {
    // Crash after the snapshot of a Ready was written but before its hard state (commit 10).
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L, 2L), null);
    s.applySnapshot(new Snapshot(10, 2, ConfState.ofVoters(1L, 2L), null));
    RawNode n = new RawNode(Config.builder().id(1).randomSeed(1).build(), s);
    assertEquals(10, n.status().hardState().commit());
    assertEquals(10, n.status().applied());
  }

  @Test
  void readIndexOnSingleNodeIsAnsweredInTheNextReady() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L), null);
    RawNode n = single(s);
    n.campaign();
    handle(n, s);
    n.readIndex("q".getBytes());
    Ready rd = n.ready();
    assertEquals(1, rd.readStates().size());
    assertEquals(2, rd.readStates().get(0).index());
    n.advance(rd);
  }

  @Test
  void configValidationNamesTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Config.builder().id(1).randomSeed(1).electionTicks(2).heartbeatTicks(2).build());
    assertTrue(e.getMessage().contains("electionTicks (2)"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Config.builder().build(), "id 0");
    assertThrows(IllegalArgumentException.class,
        () -> Config.builder().id(1).maxInflightMsgs(0).build());
    assertThrows(IllegalArgumentException.class,
        () -> Config.builder().id(1).maxSizePerMsgBytes(100).maxInflightBytes(10).build());
    assertThrows(IllegalArgumentException.class,
        () -> Config.builder().id(1).randomSeed(1).maxUncommittedEntriesBytes(-1).build());
  }

  @Test
  void randomSeedMustBeSetExplicitly() {
    // A forgotten seed used to default to 0 on every member: identical election timeouts.
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Config.builder().id(1).build());
    assertTrue(e.getMessage().contains("randomSeed"), e.getMessage());
    assertEquals(0, Config.builder().id(1).randomSeed(0).build().randomSeed(),
        "an explicit 0 is a choice, not a default");
  }

  @Test
  void uncommittedLimitDropsProposalsUntilEntriesAreApplied() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L, 2L), null);
    RawNode n = new RawNode(Config.builder().id(1).randomSeed(3)
        .maxUncommittedEntriesBytes(100).build(), s);
    n.raft().becomeCandidate();
    n.raft().becomeLeader(); // the empty no-op is never refused nor counted
    assertEquals(0, n.raft().uncommittedBytes);
    handle(n, s);
    assertTrue(n.propose(new byte[60]));
    assertTrue(n.propose(new byte[40]), "exactly at the limit is fine");
    assertFalse(n.propose(new byte[1]), "over the limit: dropped");
    assertEquals(100, n.raft().uncommittedBytes);
    handle(n, s);
    // Follower 2 acknowledges everything: the entries commit and, once applied, are released.
    long last = n.raft().log.lastIndex();
    n.step(Message.builder(MessageType.APP_RESP).from(2).to(1).term(n.raft().term).index(last)
        .build());
    List<Entry> applied = handle(n, s);
    assertEquals(last, applied.get(applied.size() - 1).index());
    assertEquals(0, n.raft().uncommittedBytes);
    assertTrue(n.propose(new byte[1]));
  }

  @Test
  void uncommittedLimitAdmitsOneOversizedProposalWhenNothingIsPending() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L, 2L), null);
    RawNode n = new RawNode(Config.builder().id(1).randomSeed(3)
        .maxUncommittedEntriesBytes(10).build(), s);
    n.raft().becomeCandidate();
    n.raft().becomeLeader();
    handle(n, s);
    assertTrue(n.propose(new byte[50]), "nothing uncommitted: a big entry still goes in");
    assertFalse(n.propose(new byte[1]));
  }

  @Test
  void uncommittedBytesResetOnBecomingLeaderAndZeroLimitMeansUnlimited() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L, 2L), null);
    RawNode n = new RawNode(Config.builder().id(1).randomSeed(3)
        .maxUncommittedEntriesBytes(0).build(), s);
    n.raft().becomeCandidate();
    n.raft().becomeLeader();
    for (int i = 0; i < 100; i++) {
      assertTrue(n.propose(new byte[1000]), "0 = no limit");
    }
    assertEquals(100_000, n.raft().uncommittedBytes);
    n.raft().becomeFollower(n.raft().term + 1, 2);
    n.raft().becomeCandidate();
    n.raft().becomeLeader();
    assertEquals(0, n.raft().uncommittedBytes, "a new leader starts from zero");
  }

  @Test
  void followerForwardsProposalsAndTheLeaderAppliesTheLimit() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L, 2L), null);
    Raft leader = new Raft(Config.builder().id(1).randomSeed(3).maxUncommittedEntriesBytes(10)
        .build(), s);
    leader.becomeCandidate();
    leader.becomeLeader();
    leader.outbox.clear();
    Message fwd = Message.builder(MessageType.PROP).from(2).to(1).term(leader.term)
        .entries(List.of(Entry.normal(0, 0, new byte[8]))).build();
    assertTrue(leader.step(fwd));
    assertFalse(leader.step(fwd), "8 + 8 > 10");
  }

  /**
   * A proposal that reached a follower from another member (which took it for the leader) goes
   * on as this member's: peers deliver only a member's own messages, so the leader would refuse a
   * stream carrying another's. Another member's read or transfer request cannot: it is dropped.
   */
  @Test
  void aFollowerForwardsOnlyWhatCanTravelAsItsOwn() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L, 2L, 3L), null);
    Raft follower = new Raft(Config.builder().id(2).randomSeed(3).build(), s);
    follower.becomeFollower(1, 1);
    follower.outbox.clear();
    assertTrue(follower.step(Message.builder(MessageType.PROP).from(3).to(2)
        .entries(List.of(Entry.normal(0, 0, new byte[8]))).build()));
    assertEquals(1, follower.outbox.size());
    Message fwd = follower.outbox.get(0);
    assertEquals(MessageType.PROP, fwd.type());
    assertEquals(1, fwd.to());
    assertEquals(2, fwd.from());

    // a read or transfer names its requester: another member's cannot travel as this one's
    follower.outbox.clear();
    assertTrue(follower.step(Message.builder(MessageType.READ_INDEX).from(3).to(2)
        .context(new byte[] {1}).build()));
    assertTrue(follower.step(Message.builder(MessageType.TRANSFER_LEADER).from(3).build()));
    assertTrue(follower.outbox.isEmpty(), follower.outbox.toString());
    follower.step(Message.builder(MessageType.READ_INDEX).context(new byte[] {2}).build());
    follower.step(Message.builder(MessageType.TRANSFER_LEADER).from(2).build());
    assertEquals(List.of(MessageType.READ_INDEX, MessageType.TRANSFER_LEADER),
        follower.outbox.stream().map(Message::type).toList());
    assertTrue(follower.outbox.stream().allMatch(f -> f.from() == 2 && f.to() == 1));
  }

  @Test
  void statusShowsLeaderProgress() {
    MemoryStorage s = MemoryStorage.bootstrap(ConfState.ofVoters(1L), null);
    RawNode n = single(s);
    n.campaign();
    handle(n, s);
    Status st = n.status();
    assertEquals(StateRole.LEADER, st.softState().role());
    assertEquals(2, st.progress().get(1L).match());
  }
}
