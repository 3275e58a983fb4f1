package io.vigil.consensus.raft;

import java.util.List;
import java.util.Optional;

/**
 * Everything the core wants done, handed out by {@link RawNode#ready()}. The caller must process
 * it in this order, then call {@link RawNode#advance(Ready)}:
 *
 * <ol>
 *   <li>Persist, durably if {@link #mustSync()}: first {@link #snapshot()} (replacing the log),
 *       then {@link #entries()} (appending, truncating any conflicting suffix), then
 *       {@link #hardState()}. A crash may lose a Ready only as a whole suffix of the unsynced
 *       writes; it must never persist a HardState without the entries before it.
 *   <li>Only then send {@link #messages()}. What each message vouches for must be durable first:
 *       <ul>
 *         <li>VOTE_RESP granting a vote: the HardState with that term and vote (else a restarted
 *             node could vote twice in one term and two leaders be elected);
 *         <li>APP_RESP acknowledging index i: the entries up to i (the leader counts it toward a
 *             quorum; losing them could lose a committed entry);
 *         <li>any message carrying a term: the HardState with that term.
 *       </ul>
 *       One exception (thesis §10.2.1, as etcd's leader does): a leader may send its messages
 *       (APP, HEARTBEAT, ...) before or while it persists the Ready, since its term is durable
 *       already and its own copy of new entries counts toward the quorum only once
 *       {@link RawNode#advance} reports them persisted.
 *       For every SNAP message, report the outcome with {@link RawNode#reportSnapshot}.
 *   <li>Restore the state machine from {@link #snapshot()} if present, then apply
 *       {@link #committedEntries()} in order (calling {@link RawNode#applyConfChange} for
 *       CONF_CHANGE entries). These entries are durable on a quorum; applying them is final.
 *   <li>Serve {@link #readStates()}: a read is linearizable once the applied index reaches its
 *       {@code index}.
 * </ol>
 *
 * <p>Fields that did not change since the previous Ready are empty.
 */
public final class Ready {
  private final SoftState softState;
  private final HardState hardState;
  private final List<ReadState> readStates;
  private final List<Entry> entries;
  private final Snapshot snapshot;
  private final List<Entry> committedEntries;
  private final List<Message> messages;
  private final boolean mustSync;

  Ready(SoftState softState, HardState hardState, List<ReadState> readStates,
      List<Entry> entries, Snapshot snapshot, List<Entry> committedEntries,
      List<Message> messages, boolean mustSync) {
    this.softState = softState;
    this.hardState = hardState;
    this.readStates = List.copyOf(readStates);
    this.entries = List.copyOf(entries);
    this.snapshot = snapshot;
    this.committedEntries = List.copyOf(committedEntries);
    this.messages = List.copyOf(messages);
    this.mustSync = mustSync;
  }

  /** The new leader/role, if it changed. Volatile: need not be persisted. */
  public Optional<SoftState> softState() {
    return Optional.ofNullable(softState);
  }

  /** The new term/vote/commit to persist, if it changed. */
  public Optional<HardState> hardState() {
    return Optional.ofNullable(hardState);
  }

  /** Answers to {@link RawNode#readIndex} requests. */
  public List<ReadState> readStates() {
    return readStates;
  }

  /** Entries to append to stable storage before sending {@link #messages()}. */
  public List<Entry> entries() {
    return entries;
  }

  /** A snapshot received from the leader, to persist and restore the state machine from. */
  public Optional<Snapshot> snapshot() {
    return Optional.ofNullable(snapshot);
  }

  /** Entries committed by a quorum, to apply to the state machine in order. */
  public List<Entry> committedEntries() {
    return committedEntries;
  }

  /** Messages to send after persisting; they may be dropped, reordered or duplicated. */
  public List<Message> messages() {
    return messages;
  }

  /**
   * Whether the writes must be synced before sending: false when only the commit index changed,
   * since a lost commit index is relearned from the leader.
   */
  public boolean mustSync() {
    return mustSync;
  }

  @Override
  public String toString() {
    return "Ready{soft=" + softState + " hard=" + hardState + " entries=" + entries.size()
        + " snapshot=" + snapshot + " committed=" + committedEntries.size() + " messages="
        + messages.size() + " reads=" + readStates.size() + "}";
  }
}
