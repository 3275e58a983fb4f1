package io.vigil.consensus.node;

import io.vigil.consensus.raft.Config;
import io.vigil.consensus.raft.ConfChange;
import io.vigil.consensus.raft.ConfState;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.Message;
import io.vigil.consensus.raft.MessageType;
import io.vigil.consensus.raft.RawNode;
import io.vigil.consensus.raft.ReadState;
import io.vigil.consensus.raft.Ready;
import io.vigil.consensus.raft.SoftState;
import io.vigil.consensus.raft.StateRole;
import io.vigil.consensus.raft.Status;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The I/O shell around the Raft core, in the shape of etcd's {@code raft.Node}: one thread owns
 * the {@link RawNode} and its {@link RaftStorage}, and everything else talks to it through tasks
 * on its inbox. Each turn of its loop runs the queued tasks (peer messages, proposals, reads),
 * ticks when a tick is due, then handles every {@link Ready} in the order its contract sets:
 * a leader's replication messages → persist (WAL, synced) → the other messages → hand committed
 * entries and read states to the {@link Applier} → {@code advance}.
 *
 * <p>Ordering contract with the applier: {@link Applier#apply} is called on this thread, once per
 * Ready, with committed entries in log order; it must only enqueue. Read states come with the
 * entries of the same Ready, so an applier that serves a read once it has applied up to the read
 * state's index serves it after every entry that was committed when the leader confirmed it.
 *
 * <p>Proposals and read requests made while there is no leader (or that the core drops, e.g.
 * during a leadership transfer) wait here and are offered again on every tick and leader change
 * until their caller gives up (its future completes). Read requests that were handed to the core
 * but not answered when the leader changes are asked again: a leader change can lose them.
 *
 * <p>Time: a tick every {@code tickNanos} (etcd's --heartbeat-interval); election and heartbeat
 * timeouts are counted in ticks by the core.
 */
public final class RaftNode implements AutoCloseable {
  /** Sends messages to peers. Called on the node thread; must not block. */
  public interface Transport {
    /** Sends {@code message}, or holds it until the next {@link #flush}. */
    void send(Message message);

    /**
     * Sends every message {@link #send} holds. The node calls it after each group of sends of a
     * Ready (the leader's appends before its own WAL write, the rest after), so a transport may
     * pack a group's messages for one peer together.
     */
    default void flush() {
    }

    /** Called on every tick, on the node thread: a chance to reconnect to peers. */
    default void tick() {
    }

    /**
     * Sends the state machine's snapshot to a follower the log no longer reaches ({@code snap} is
     * the core's request; the snapshot sent may be newer). Must not block; the outcome is told
     * with {@link RaftNode#reportSnapshot}. False when snapshots cannot be sent: the core is told
     * at once that it failed.
     */
    default boolean sendSnapshot(Message snap) {
      return false;
    }
  }

  /** Receives what Raft hands to the state machine. Called on the node thread; must only enqueue. */
  public interface Applier {
    void apply(Applied applied);
  }

  /**
   * One Ready's worth of work for the state machine.
   *
   * @param committed entries to apply, in log order
   * @param readStates reads that are linearizable once {@code index} is applied
   * @param softState the new leader and role, or null when unchanged
   * @param term the current term
   */
  public record Applied(List<Entry> committed, List<ReadState> readStates, SoftState softState, long term) {
  }

  /** A proposal (of data or a conf change) or a read the core could not take yet. */
  private record Waiting(byte[] data, ConfChange confChange, long readContext, CompletableFuture<?> caller) {
    boolean isRead() {
      return data == null && confChange == null;
    }
  }

  /** Messages only a leader sends, which may leave before their Ready is persisted. */
  private static final Set<MessageType> SENT_BEFORE_PERSIST =
      EnumSet.of(MessageType.APP, MessageType.HEARTBEAT, MessageType.TIMEOUT_NOW);

  private final RawNode raw;
  private final RaftStorage storage;
  private final Transport transport;
  private final Applier applier;
  private final long tickNanos;
  private final Consumer<Throwable> onFatal;
  private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
  /** Data proposals taken from the inbox, not yet handed to the core (node thread only). */
  private final List<Waiting> joining = new ArrayList<>();
  private long joiningBytes;
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  /** Read contexts handed to the core and not answered yet, with their callers. */
  private final Map<Long, CompletableFuture<?>> unansweredReads = new LinkedHashMap<>();
  private final Thread thread;
  private volatile boolean stopping;
  private volatile long term;
  private volatile long leaderId;
  private volatile StateRole role = StateRole.FOLLOWER;
  private volatile long lastIndex;
  private volatile long commitIndex;
  /** How many times a leader was found that differs from the one before (etcd's leader changes seen); node thread writes. */
  private volatile long leaderChanges;
  /** Node thread: the configuration as applied, for the storage's snapshots. */
  private ConfState confState;

  private RaftNode(Config config, RaftStorage storage, ConfState conf, Transport transport, Applier applier,
      long tickNanos, Consumer<Throwable> onFatal) {
    this.raw = new RawNode(config, storage.memory());
    this.storage = storage;
    this.transport = transport;
    this.applier = applier;
    this.tickNanos = tickNanos;
    this.onFatal = onFatal;
    this.confState = conf;
    this.term = storage.hardState().term();
    this.lastIndex = storage.memory().lastIndex();
    this.commitIndex = storage.hardState().commit();
    this.thread = new Thread(this::run, "vigil-raft");
  }

  /**
   * Starts the node thread. A member that is the only voter campaigns at once instead of waiting
   * out an election timeout (etcd fast-forwards its ticks on start for the same reason).
   *
   * @param onFatal told when persisting fails: the member must stop (what was not synced is lost)
   */
  public static RaftNode start(Config config, RaftStorage storage, ConfState conf, Transport transport,
      Applier applier, long tickNanos, Consumer<Throwable> onFatal) {
    RaftNode node = new RaftNode(config, storage, conf, transport, applier, tickNanos, onFatal);
    if (conf.voters().size() == 1 && conf.voters().contains(config.id())) {
      node.raw.campaign();
    }
    node.thread.start();
    return node;
  }

  /**
   * Proposes {@code data} for the log. The outcome is seen when the entry is applied; if the core
   * cannot take it now (no leader), it waits here until {@code caller} completes (the caller's
   * timeout) or a leader takes it.
   */
  public void propose(byte[] data, CompletableFuture<?> caller) {
    submit(new Proposal(new Waiting(data, null, 0, caller)), caller);
  }

  /**
   * A data proposal's task. Proposals queued one after another join: the loop collects them in
   * {@link #joining} (up to {@link #JOIN_BYTES}) and hands them to the core as one PROP before it
   * runs any other task or builds a Ready, so the leader appends and replicates them with one append per follower, and
   * a follower forwards them as one message. Their order, and their order against every other
   * task, is kept.
   */
  private final class Proposal implements Runnable {
    private final Waiting waiting;

    Proposal(Waiting waiting) {
      this.waiting = waiting;
    }

    @Override
    public void run() {
      if (waiting.caller().isDone()) {
        return;
      }
      if (joiningBytes + waiting.data().length > JOIN_BYTES) {
        offerJoined();
      }
      joining.add(waiting);
      joiningBytes += waiting.data().length;
    }
  }

  /**
   * The most bytes of data proposals joined into one (a larger one goes alone): a follower
   * forwards the joined proposal as one message, which must fit what a peer port takes.
   */
  static final int JOIN_BYTES = 256 << 10;

  /** Hands the proposals collected in {@link #joining} to the core as one; those it drops wait. */
  private void offerJoined() {
    joining.removeIf(w -> w.caller().isDone());
    if (joining.isEmpty()) {
      joiningBytes = 0;
      return;
    }
    if (joining.size() == 1) {
      offer(joining.get(0));
    } else {
      List<byte[]> data = new ArrayList<>(joining.size());
      for (Waiting w : joining) {
        data.add(w.data());
      }
      if (!raw.propose(data)) {
        waiting.addAll(joining);
      }
    }
    joining.clear();
    joiningBytes = 0;
  }

  /**
   * Proposes a membership change; like {@link #propose}, it waits here while the core cannot take
   * it (no leader, or the previous change not applied yet) until {@code caller} completes.
   */
  public void proposeConfChange(ConfChange cc, CompletableFuture<?> caller) {
    submit(() -> offer(new Waiting(null, cc, 0, caller)), caller);
  }

  /**
   * Asks for a linearizable read point: a {@link ReadState} with {@code context} (8 bytes, the
   * caller's unique id) reaches the applier. Asked again after a leader change until
   * {@code caller} completes.
   */
  public void readIndex(long context, CompletableFuture<?> caller) {
    submit(() -> offer(new Waiting(null, null, context, caller)), caller);
  }

  /** Steps {@code messages} (from one peer, in order) as one task of the node thread. */
  public void step(List<Message> messages) {
    submit(() -> {
      for (Message m : messages) {
        if (!m.type().isLocal()) {
          raw.step(m);
        }
      }
    }, null);
  }

  /** The transport could not deliver to {@code peerId}. */
  public void reportUnreachable(long peerId) {
    submit(() -> raw.reportUnreachable(peerId), null);
  }

  /**
   * Whether a snapshot sent to {@code peerId} (see {@link Transport#sendSnapshot}) was delivered,
   * and its index ({@link RawNode#reportSnapshot(long, boolean, long)}; 0: the core's own).
   */
  public void reportSnapshot(long peerId, boolean delivered, long index) {
    submit(() -> raw.reportSnapshot(peerId, delivered, index), null);
  }

  /** The term of the entry at {@code index} in this member's log (fails when it is not there). */
  public CompletableFuture<Long> termAt(long index) {
    CompletableFuture<Long> out = new CompletableFuture<>();
    submit(() -> {
      try {
        out.complete(storage.memory().term(index));
      } catch (RuntimeException e) {
        out.completeExceptionally(e);
      }
    }, out);
    return out;
  }

  /** Hands leadership to {@code transfereeId} (the core sends TimeoutNow once it caught up). */
  public void transferLeadership(long transfereeId) {
    submit(() -> raw.transferLeadership(transfereeId), null);
  }

  /** Applies a committed configuration change, on the node thread, in log order. */
  public void applyConfChange(ConfChange cc) {
    submit(() -> confState = raw.applyConfChange(cc), null);
  }

  /**
   * The state machine has durably applied up to {@code index}: WAL segments below it may go,
   * and the in-memory log keeps at most {@code keepEntries} entries below it for lagging
   * followers; a leader keeps only {@code catchUpEntries} below what every member holds.
   */
  public void released(long index, long keepEntries, long catchUpEntries) {
    submit(() -> storage.release(index, confState, keepEntries, catchUpEntries, raw.lowestPeerMatch()), null);
  }

  /** The core's status, read on the node thread. */
  public CompletableFuture<Status> status() {
    CompletableFuture<Status> out = new CompletableFuture<>();
    submit(() -> out.complete(raw.status()), out);
    return out;
  }

  public long term() {
    return term;
  }

  /** How many times this member saw a new leader (not counting the loss of one) since it started. */
  public long leaderChanges() {
    return leaderChanges;
  }

  /** The leader this member believes in, or 0. */
  public long leaderId() {
    return leaderId;
  }

  public StateRole role() {
    return role;
  }

  /** The last index in this member's log. */
  public long lastIndex() {
    return lastIndex;
  }

  public long commitIndex() {
    return commitIndex;
  }

  private void submit(Runnable task, CompletableFuture<?> caller) {
    if (stopping) {
      if (caller != null) {
        caller.completeExceptionally(new IllegalStateException("the member is stopping"));
      }
      return;
    }
    inbox.add(task);
  }

  private void offer(Waiting w) {
    if (w.caller().isDone()) {
      return;
    }
    if (!tryCore(w)) {
      waiting.add(w);
    }
  }

  /** Hands a proposal or read to the core; false when it dropped it. */
  private boolean tryCore(Waiting w) {
    if (w.isRead()) {
      boolean taken = raw.readIndex(ByteBuffer.allocate(8).putLong(w.readContext()).array());
      if (taken) {
        unansweredReads.put(w.readContext(), w.caller());
      }
      return taken;
    }
    return w.confChange() != null ? raw.proposeConfChange(w.confChange()) : raw.propose(w.data());
  }

  /** Offers the waiting proposals and reads again, dropping those whose callers gave up. */
  private void retryWaiting() {
    for (int n = waiting.size(); n > 0; n--) {
      Waiting w = waiting.poll();
      if (!w.caller().isDone() && !tryCore(w)) {
        waiting.add(w);
      }
    }
  }

  /** After a leader change: reads the old leader did not answer may be lost, so ask again. */
  private void reaskReads() {
    Iterator<Map.Entry<Long, CompletableFuture<?>>> it = unansweredReads.entrySet().iterator();
    List<Waiting> again = new ArrayList<>();
    while (it.hasNext()) {
      Map.Entry<Long, CompletableFuture<?>> e = it.next();
      it.remove();
      if (!e.getValue().isDone()) {
        again.add(new Waiting(null, null, e.getKey(), e.getValue()));
      }
    }
    again.forEach(waiting::add);
  }

  private void run() {
    long nextTick = System.nanoTime() + tickNanos;
    try {
      while (!stopping) {
        long wait = nextTick - System.nanoTime();
        Runnable task = wait > 0 ? inbox.poll(wait, TimeUnit.NANOSECONDS) : inbox.poll();
        for (int n = 0; task != null && n < 4096; n++) {
          runTask(task);
          task = inbox.poll();
        }
        if (task != null) {
          runTask(task);
        }
        offerJoined();
        long now = System.nanoTime();
        if (now - nextTick >= 0) {
          raw.tick();
          transport.tick();
          nextTick = Math.max(nextTick + tickNanos, now);
          retryWaiting();
        }
        handleReadies();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      stopping = true;
      onFatal.accept(t);
    }
    failLeftovers();
  }

  /** Runs one inbox task; any task but a proposal first hands the joined proposals to the core. */
  private void runTask(Runnable task) {
    if (!(task instanceof Proposal)) {
      offerJoined();
    }
    task.run();
  }

  private void handleReadies() {
    while (raw.hasReady()) {
      Ready rd = raw.ready();
      if (rd.snapshot().isPresent()) {
        throw new IllegalStateException("installing a snapshot from the leader is not supported yet: "
            + rd.snapshot().get());
      }
      // a leader's replication leaves before its own write, which then overlaps the followers'
      // (Ready's exception to persist-before-send; its own copy counts once advanced)
      for (Message m : rd.messages()) {
        if (SENT_BEFORE_PERSIST.contains(m.type())) {
          transport.send(m);
        }
      }
      transport.flush();
      storage.save(rd.hardState().orElse(null), rd.entries(), rd.mustSync());
      rd.hardState().ifPresent(hs -> {
        term = hs.term();
        commitIndex = hs.commit();
      });
      lastIndex = storage.memory().lastIndex();
      for (Message m : rd.messages()) {
        if (m.type() == MessageType.SNAP) {
          if (!transport.sendSnapshot(m)) {
            raw.reportSnapshot(m.to(), false);
          }
        } else if (!SENT_BEFORE_PERSIST.contains(m.type())) {
          transport.send(m);
        }
      }
      transport.flush();
      for (ReadState rs : rd.readStates()) {
        unansweredReads.remove(ByteBuffer.wrap(rs.requestContext()).getLong());
      }
      SoftState soft = rd.softState().orElse(null);
      applier.apply(new Applied(rd.committedEntries(), rd.readStates(), soft, term));
      raw.advance(rd);
      if (soft != null) {
        boolean leaderChanged = soft.leaderId() != leaderId;
        if (leaderChanged && soft.leaderId() != 0) {
          leaderChanges++;
        }
        leaderId = soft.leaderId();
        role = soft.role();
        if (leaderChanged) {
          reaskReads();
          retryWaiting();
        }
      }
    }
  }

  private void failLeftovers() {
    // queued tasks only touch the core, which no longer runs; their callers are failed below or time out
    inbox.clear();
    IllegalStateException stopped = new IllegalStateException("the member is stopping");
    joining.forEach(w -> w.caller().completeExceptionally(stopped));
    joining.clear();
    joiningBytes = 0;
    waiting.forEach(w -> w.caller().completeExceptionally(stopped));
    unansweredReads.values().forEach(c -> c.completeExceptionally(stopped));
    waiting.clear();
    unansweredReads.clear();
  }

  /** Stops the node thread (after the task it is running), then closes the WAL. */
  @Override
  public void close() {
    stopping = true;
    inbox.add(() -> { });
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    storage.close();
  }

  /** Whether the node thread is still running (false after a fatal failure or close). */
  public boolean isRunning() {
    return thread.isAlive();
  }
}
