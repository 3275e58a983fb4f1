package io.vigil.consensus.raft;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The entry point to the Raft core: a deterministic, single-threaded state machine. Not
 * thread-safe; one thread (or one event loop) owns it.
 *
 * <p>Driving loop:
 * <pre>{@code
 * every tick interval:  node.tick();
 * on a message:         node.step(message);
 * on a client write:    node.propose(data);          // false: dropped, retry elsewhere/later
 * on a client read:     node.readIndex(requestId);   // answered by a ReadState
 * then, while (node.hasReady()):
 *   Ready rd = node.ready();
 *   persist, send, apply, serve reads  (the order and contract are on Ready)
 *   node.advance(rd);
 * }</pre>
 *
 * <p>Starting: a member of a new cluster starts from {@link MemoryStorage#bootstrap} (or the
 * durable equivalent); a node being added starts from empty storage and is added with
 * {@link #proposeConfChange} on the leader; a restarting node starts from what it persisted,
 * with {@link Config#applied()} set to the index its state machine has applied.
 */
public final class RawNode {
  private final Raft raft;
  private SoftState prevSoftState;
  private HardState prevHardState;
  /** The Ready handed out and not yet advanced, or null. */
  private Ready inProgress;

  public RawNode(Config config, Storage storage) {
    this.raft = new Raft(config, storage);
    this.prevSoftState = raft.softState();
    this.prevHardState = storage.initialState().hardState();
  }

  /** Advances logical time by one tick (election and heartbeat timeouts count ticks). */
  public void tick() {
    raft.tick();
  }

  /** Starts an election now (PreVote first if enabled), as if the election timeout elapsed. */
  public void campaign() {
    raft.step(Message.builder(MessageType.HUP).from(raft.id).build());
  }

  /**
   * Proposes {@code data} for the log.
   *
   * @return false if dropped here (no known leader, leadership transfer in progress, or the
   *     leader's {@link Config#maxUncommittedEntriesBytes()} reached); true means
   *     appended or forwarded, not committed: watch the applied entries, and retry on timeout
   */
  public boolean propose(byte[] data) {
    return raft.step(Message.builder(MessageType.PROP).entries(List.of(Entry.normal(0, 0, data)))
        .build());
  }

  /** Proposes several entries, in order, as one proposal: all are taken or all are dropped. */
  public boolean propose(List<byte[]> data) {
    List<Entry> entries = new ArrayList<>(data.size());
    for (byte[] d : data) {
      entries.add(Entry.normal(0, 0, d));
    }
    return raft.step(Message.builder(MessageType.PROP).entries(entries).build());
  }

  /**
   * Proposes a membership change. Dropped (false) while another change is pending, when it does
   * not fit the configuration, or when it promotes a learner that has not caught up with the
   * commit index.
   */
  public boolean proposeConfChange(ConfChange cc) {
    Entry e = new Entry(0, 0, EntryType.CONF_CHANGE, cc.encode());
    return raft.step(Message.builder(MessageType.PROP).entries(List.of(e)).build());
  }

  /** Applies a committed conf change; call while applying its entry, in log order. */
  public ConfState applyConfChange(ConfChange cc) {
    return raft.applyConfChange(cc);
  }

  /**
   * Delivers a message from a peer. Local message types are rejected; responses from nodes
   * outside the configuration are ignored.
   */
  public void step(Message m) {
    if (m.type().isLocal()) {
      throw new IllegalArgumentException("local message " + m.type() + " cannot come from a peer");
    }
    if (m.type().isResponse() && raft.tracker.progress(m.from()) == null) {
      return;
    }
    raft.step(m);
  }

  /**
   * Requests a linearizable read; the answer is a {@link ReadState} carrying the same
   * {@code requestContext} (which should be unique). Requests made between two Readies are
   * confirmed by one heartbeat round. Returns false if dropped (no known leader); requests can
   * also be lost with a leadership change, so callers time out and retry.
   */
  public boolean readIndex(byte[] requestContext) {
    return raft.step(Message.builder(MessageType.READ_INDEX).context(requestContext).build());
  }

  /** Asks the leader to hand leadership to {@code transfereeId} (TimeoutNow once caught up). */
  public void transferLeadership(long transfereeId) {
    raft.step(Message.builder(MessageType.TRANSFER_LEADER).from(transfereeId).build());
  }

  /** The transport failed to deliver to {@code id}; the leader stops pipelining to it. */
  public void reportUnreachable(long id) {
    raft.step(Message.builder(MessageType.UNREACHABLE).from(id).build());
  }

  /** Outcome of sending a SNAP message to {@code id}; must be reported for every SNAP sent. */
  public void reportSnapshot(long id, boolean delivered) {
    reportSnapshot(id, delivered, 0);
  }

  /**
   * As {@link #reportSnapshot(long, boolean)}, where the state machine sent a snapshot newer than
   * the SNAP message's: {@code index} is the index the follower has once it installs what was
   * delivered (0: the SNAP message's own). The leader probes from after it, not from the core's
   * older snapshot index, which the log may have compacted away meanwhile: without this, a log
   * that keeps sliding under writes sent a follower snapshot after snapshot.
   */
  public void reportSnapshot(long id, boolean delivered, long index) {
    raft.step(Message.builder(MessageType.SNAP_STATUS).from(id).reject(!delivered).index(index).build());
  }

  /** Whether {@link #ready()} has anything to hand out; false while a Ready is unacknowledged. */
  public boolean hasReady() {
    if (inProgress != null) {
      return false;
    }
    HardState hs = raft.hardState();
    return !raft.softState().equals(prevSoftState)
        || hardStateChanged(hs)
        || raft.log.unstableSnapshot() != null
        || raft.log.hasUnstableEntries()
        || !raft.outbox.isEmpty()
        || !raft.readStates.isEmpty()
        || raft.log.hasNextCommittedEntries()
        || (raft.role == StateRole.LEADER && raft.reads.hasUnsentRound());
  }

  private boolean hardStateChanged(HardState hs) {
    if (hs.isEmpty()) {
      return false;
    }
    if (Mutation.on(Mutation.VOTE_CHANGE_WITHOUT_HARDSTATE)) {
      return hs.term() != prevHardState.term() || hs.commit() != prevHardState.commit();
    }
    return !hs.equals(prevHardState);
  }

  /**
   * Hands out the pending work. Also starts the heartbeat round confirming the ReadIndex
   * requests queued since the previous Ready. Must be followed by {@link #advance} before the
   * next call.
   */
  public Ready ready() {
    if (inProgress != null) {
      throw new IllegalStateException("the previous Ready has not been advanced");
    }
    raft.flushReadRound();
    SoftState ss = raft.softState();
    HardState hs = raft.hardState();
    List<Entry> entries = raft.log.unstableEntries();
    boolean hardChanged = hardStateChanged(hs);
    // A term or vote must be durable before any message that relies on it leaves (a vote
    // granted and forgotten in a crash lets this node vote twice in one term); a commit index
    // alone may be lost and is relearned from the leader.
    boolean voteChanged = hs.vote() != prevHardState.vote()
        && !Mutation.on(Mutation.VOTE_CHANGE_NOT_SYNCED);
    boolean mustSync = !entries.isEmpty() || (hardChanged
        && (hs.term() != prevHardState.term() || voteChanged));
    Ready rd = new Ready(
        ss.equals(prevSoftState) ? null : ss,
        hardChanged ? hs : null,
        List.copyOf(raft.readStates),
        entries,
        raft.log.unstableSnapshot(),
        raft.log.nextCommittedEntries(),
        List.copyOf(raft.outbox),
        mustSync || raft.log.unstableSnapshot() != null);
    raft.outbox.clear();
    raft.readStates.clear();
    prevSoftState = ss;
    inProgress = rd;
    return rd;
  }

  /**
   * Acknowledges that {@code rd} was processed as its contract requires: its entries, snapshot
   * and hard state are persisted, and its committed entries applied.
   */
  public void advance(Ready rd) {
    if (rd != inProgress) {
      throw new IllegalStateException("advance called with a Ready that is not the current one");
    }
    inProgress = null;
    rd.hardState().ifPresent(hs -> prevHardState = hs);
    List<Entry> entries = rd.entries();
    if (!entries.isEmpty()) {
      Entry last = entries.get(entries.size() - 1);
      raft.log.stableTo(last.index(), last.term());
      raft.persisted(last.index(), last.term());
    }
    rd.snapshot().ifPresent(s -> {
      raft.log.stableSnapTo(s.index());
      raft.log.appliedTo(s.index());
    });
    List<Entry> committed = rd.committedEntries();
    if (!committed.isEmpty()) {
      raft.log.appliedTo(committed.get(committed.size() - 1).index());
      raft.releaseUncommitted(committed);
    }
  }

  /**
   * While leader, the highest index every other member is known to hold (the lowest of their
   * matches), {@code Long.MAX_VALUE} when there is no other member; 0 on a follower or
   * candidate, which knows nothing of the others' logs.
   */
  public long lowestPeerMatch() {
    if (raft.role != StateRole.LEADER) {
      return 0;
    }
    long lowest = Long.MAX_VALUE;
    for (Map.Entry<Long, Progress> e : raft.tracker.progressMap().entrySet()) {
      if (e.getKey() != raft.id) {
        lowest = Math.min(lowest, e.getValue().match);
      }
    }
    return lowest;
  }

  /** A snapshot of this node's state. */
  public Status status() {
    Map<Long, Status.PeerProgress> progress = new TreeMap<>();
    if (raft.role == StateRole.LEADER) {
      raft.tracker.progressMap().forEach((id, pr) -> progress.put(id, new Status.PeerProgress(
          pr.match, pr.next, Status.ReplicationState.valueOf(pr.state.name()))));
    }
    return new Status(raft.id, raft.hardState(), raft.softState(), raft.log.applied,
        raft.tracker.confState(), Collections.unmodifiableMap(progress));
  }

  /** Test seam: the core behind this node. */
  Raft raft() {
    return raft;
  }
}
