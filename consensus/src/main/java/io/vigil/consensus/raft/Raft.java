package io.vigil.consensus.raft;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The Raft core: one node's protocol state and its transitions. Pure and single-threaded; it
 * reads the clock as {@link #tick()}, everything else as {@link #step(Message)}, and only ever
 * appends to {@link #outbox} and {@link #readStates} (drained by {@link RawNode#ready()}).
 *
 * <p>Roles are swapped step/tick functions: {@link #stepLeader}, {@link #stepCandidate} (PreVote
 * and real candidates), {@link #stepFollower}. The rules every role shares (term comparison,
 * votes, elections) run first in {@link #step}.
 *
 * <p>Invariants: {@code term} never decreases; a node votes at most once per term
 * ({@code vote} is reset only when the term changes); only the leader has {@code leaderId == id}.
 */
final class Raft {
  static final long NONE = 0;

  @FunctionalInterface
  private interface StepFunction {
    /** Returns false only for a proposal that was dropped. */
    boolean step(Message m);
  }

  enum CampaignType { PRE_ELECTION, ELECTION, TRANSFER }

  final long id;
  long term;
  long vote;
  final RaftLog log;
  final ProgressTracker tracker;
  StateRole role = StateRole.FOLLOWER;
  long leaderId;
  /** Leader only: the node leadership is being handed to, or NONE. */
  long leadTransferee;
  /**
   * Leader only: index of the last conf change appended. A new one may only be proposed once
   * it is applied, so at most one membership change is ever in flight.
   */
  long pendingConfIndex;
  final ReadIndexQueue reads = new ReadIndexQueue();

  /** Messages to send once the Ready carrying them has been persisted. */
  final List<Message> outbox = new ArrayList<>();
  final List<ReadState> readStates = new ArrayList<>();

  private final int electionTicks;
  private final int heartbeatTicks;
  private final boolean checkQuorum;
  private final boolean preVote;
  private final long maxSizePerMsgBytes;
  /** 0 = no limit; see {@link Config#maxUncommittedEntriesBytes()}. */
  private final long maxUncommittedBytes;
  /**
   * Leader only: data bytes of the entries proposed in this term and not yet applied. Zeroed
   * on every role or term change; may under-count (entries of earlier terms are released but
   * never counted), never over-count, so the limit cannot wedge a leader.
   */
  long uncommittedBytes;
  private final Random random;
  /** Ticks since the last reset; for a leader, since the last CheckQuorum. */
  private int electionElapsed;
  private int heartbeatElapsed;
  private int randomizedElectionTicks;
  private StepFunction stepFn;
  private Runnable tickFn;

  Raft(Config c, Storage storage) {
    this.id = c.id();
    this.electionTicks = c.electionTicks();
    this.heartbeatTicks = c.heartbeatTicks();
    this.checkQuorum = c.checkQuorum();
    this.preVote = c.preVote();
    this.maxSizePerMsgBytes = c.maxSizePerMsgBytes();
    this.maxUncommittedBytes = c.maxUncommittedEntriesBytes();
    this.random = new Random(c.randomSeed());
    this.log = new RaftLog(storage, c.maxCommittedSizePerReadyBytes());
    this.tracker = new ProgressTracker(c.maxInflightMsgs(), c.maxInflightBytes());

    Storage.InitialState init = storage.initialState();
    tracker.reset(init.confState(), log.lastIndex() + 1);
    HardState hs = init.hardState();
    if (!hs.isEmpty()) {
      if (hs.commit() > log.lastIndex()) {
        throw new IllegalStateException("persisted commit " + hs.commit()
            + " beyond the persisted log " + log.lastIndex());
      }
      // A snapshot is committed by definition; its hard state may not have been persisted yet
      // when the node crashed, so the commit index is at least the snapshot's.
      log.committed = Math.max(log.committed, hs.commit());
      term = hs.term();
      vote = hs.vote();
    }
    if (c.applied() > 0) {
      log.appliedTo(c.applied());
    }
    becomeFollower(term, NONE);
  }

  HardState hardState() {
    if (Mutation.on(Mutation.VOTE_NOT_PERSISTED)) {
      return new HardState(term, NONE, log.committed);
    }
    return new HardState(term, vote, log.committed);
  }

  SoftState softState() {
    return new SoftState(leaderId, role);
  }

  /** Only a voter may campaign; learners and removed nodes never do. */
  boolean promotable() {
    return tracker.isVoter(id);
  }

  // ---------------------------------------------------------------------------------------------
  // Role transitions. Illegal ones throw.

  void becomeFollower(long newTerm, long lead) {
    stepFn = this::stepFollower;
    tickFn = this::tickElection;
    reset(newTerm);
    leaderId = lead;
    role = StateRole.FOLLOWER;
  }

  void becomePreCandidate() {
    if (role == StateRole.LEADER) {
      throw new IllegalStateException("invalid transition LEADER -> PRE_CANDIDATE");
    }
    // PreVote changes neither term nor vote (thesis §9.6): a node that cannot win must not
    // disturb the cluster.
    stepFn = this::stepCandidate;
    tickFn = this::tickElection;
    tracker.resetVotes();
    leaderId = NONE;
    role = StateRole.PRE_CANDIDATE;
  }

  void becomeCandidate() {
    if (role == StateRole.LEADER) {
      throw new IllegalStateException("invalid transition LEADER -> CANDIDATE");
    }
    stepFn = this::stepCandidate;
    tickFn = this::tickElection;
    reset(term + 1);
    vote = id;
    role = StateRole.CANDIDATE;
  }

  void becomeLeader() {
    if (role == StateRole.FOLLOWER || role == StateRole.PRE_CANDIDATE) {
      throw new IllegalStateException("invalid transition " + role + " -> LEADER");
    }
    stepFn = this::stepLeader;
    tickFn = this::tickHeartbeat;
    reset(term);
    leaderId = id;
    role = StateRole.LEADER;
    Progress self = tracker.progress(id);
    self.becomeReplicate();
    self.recentActive = true;
    // Conservative: entries from earlier terms may hold an unapplied conf change, so no new one
    // until everything up to here is applied (which needs the no-op below committed).
    pendingConfIndex = log.lastIndex();
    // The no-op of Raft §8: committing it commits every earlier entry (§5.4.2) and makes the
    // commit index trustworthy for ReadIndex.
    appendEntries(List.of(Entry.normal(0, 0, null)));
  }

  private void reset(long newTerm) {
    if (term != newTerm) {
      term = newTerm;
      vote = NONE;
    }
    leaderId = NONE;
    electionElapsed = 0;
    heartbeatElapsed = 0;
    randomizedElectionTicks = electionTicks + random.nextInt(electionTicks);
    leadTransferee = NONE;
    tracker.resetVotes();
    long last = log.lastIndex();
    for (Map.Entry<Long, Progress> e : tracker.progressMap().entrySet()) {
      Progress pr = e.getValue();
      pr.becomeProbe();
      pr.match = e.getKey() == id ? last : 0;
      pr.next = last + 1;
    }
    pendingConfIndex = 0;
    uncommittedBytes = 0;
    reads.reset();
  }

  // ---------------------------------------------------------------------------------------------
  // Time.

  void tick() {
    tickFn.run();
  }

  private void tickElection() {
    electionElapsed++;
    if (promotable() && electionElapsed >= randomizedElectionTicks) {
      electionElapsed = 0;
      step(local(MessageType.HUP).build());
    }
  }

  private void tickHeartbeat() {
    heartbeatElapsed++;
    electionElapsed++;
    if (electionElapsed >= electionTicks) {
      electionElapsed = 0;
      if (checkQuorum) {
        step(local(MessageType.CHECK_QUORUM).build());
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (role == StateRole.LEADER && leadTransferee != NONE) {
        leadTransferee = NONE;
      }
    }
    if (role != StateRole.LEADER) {
      return;
    }
    if (heartbeatElapsed >= heartbeatTicks) {
      heartbeatElapsed = 0;
      step(local(MessageType.BEAT).build());
    }
  }

  private Message.Builder local(MessageType type) {
    return Message.builder(type).from(id);
  }

  // ---------------------------------------------------------------------------------------------
  // Input.

  /**
   * Processes one message. Rules shared by every role run here (Raft §5.1 term handling, votes,
   * elections); the rest goes to the current role's step function.
   *
   * @return false only when {@code m} is a proposal that was dropped
   */
  boolean step(Message m) {
    if (m.term() > term) {
      if (!stepHigherTerm(m)) {
        return true;
      }
    } else if (m.term() != 0 && m.term() < term) {
      stepLowerTerm(m);
      return true;
    }
    switch (m.type()) {
      case HUP -> hup(preVote ? CampaignType.PRE_ELECTION : CampaignType.ELECTION);
      case VOTE, PRE_VOTE -> handleVoteRequest(m);
      default -> {
        return stepFn.step(m);
      }
    }
    return true;
  }

  /** Returns whether processing continues. */
  private boolean stepHigherTerm(Message m) {
    if (m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE) {
      boolean transfer = Arrays.equals(m.context(), Message.TRANSFER_CONTEXT);
      boolean inLease = checkQuorum && leaderId != NONE && electionElapsed < electionTicks;
      if (!transfer && inLease) {
        // Leader lease (thesis §4.2.3): we heard from a live leader within the minimum election
        // timeout, so this candidate is disruptive; neither update the term nor grant.
        return false;
      }
    }
    if (m.type() == MessageType.PRE_VOTE) {
      return true; // a PreVote never changes the receiver's term
    }
    if (m.type() == MessageType.PRE_VOTE_RESP && !m.reject()) {
      // Granted PreVotes carry the term we would campaign in; it becomes ours only on winning.
      return true;
    }
    boolean fromLeader = m.type() == MessageType.APP || m.type() == MessageType.HEARTBEAT
        || m.type() == MessageType.SNAP;
    becomeFollower(m.term(), fromLeader ? m.from() : NONE);
    return true;
  }

  private void stepLowerTerm(Message m) {
    if ((checkQuorum || preVote)
        && (m.type() == MessageType.HEARTBEAT || m.type() == MessageType.APP)) {
      // A leader cut off by a partition may never see a higher term: with CheckQuorum or PreVote
      // nobody campaigns against it with a higher term, so tell it explicitly.
      send(Message.builder(MessageType.APP_RESP).to(m.from()));
    } else if (m.type() == MessageType.PRE_VOTE) {
      send(Message.builder(MessageType.PRE_VOTE_RESP).to(m.from()).term(term).reject(true));
    }
    // Anything else from an old term is ignored (Raft §5.1).
  }

  private void handleVoteRequest(Message m) {
    boolean preVoteRequest = m.type() == MessageType.PRE_VOTE;
    MessageType respType = preVoteRequest ? MessageType.PRE_VOTE_RESP : MessageType.VOTE_RESP;
    boolean canVote = vote == m.from()
        || (vote == NONE && leaderId == NONE)
        || (preVoteRequest && m.term() > term);
    if (canVote && (log.isUpToDate(m.index(), m.logTerm())
        || Mutation.on(Mutation.VOTE_FOR_STALE_LOG))) {
      // Reply with the request's term, not ours: a granted PreVote is for a future term.
      send(Message.builder(respType).to(m.from()).term(m.term()));
      if (!preVoteRequest) {
        electionElapsed = 0;
        vote = m.from();
      }
    } else {
      send(Message.builder(respType).to(m.from()).term(term).reject(true));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Elections.

  private void hup(CampaignType type) {
    if (role == StateRole.LEADER) {
      return;
    }
    if (!promotable()) {
      return;
    }
    // Configuration takes effect on apply; with a committed but unapplied change our view of the
    // voters may be stale, so wait for the application to catch up.
    if (log.hasCommittedUnappliedConfChange()) {
      return;
    }
    campaign(type);
  }

  private void campaign(CampaignType type) {
    long voteTerm;
    MessageType voteType;
    if (type == CampaignType.PRE_ELECTION) {
      becomePreCandidate();
      voteType = MessageType.PRE_VOTE;
      voteTerm = term + 1;
    } else {
      becomeCandidate();
      voteType = MessageType.VOTE;
      voteTerm = term;
    }
    if (tracker.recordVote(id, true) == ProgressTracker.VoteResult.WON) {
      wonElection(type); // single-voter cluster
      return;
    }
    byte[] ctx = type == CampaignType.TRANSFER ? Message.TRANSFER_CONTEXT : null;
    for (long voter : tracker.voters()) {
      if (voter == id) {
        continue;
      }
      send(Message.builder(voteType).to(voter).term(voteTerm).index(log.lastIndex())
          .logTerm(log.lastTerm()).context(ctx));
    }
  }

  private void wonElection(CampaignType type) {
    if (type == CampaignType.PRE_ELECTION) {
      campaign(CampaignType.ELECTION);
    } else {
      becomeLeader();
      bcastAppend();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Leader.

  private boolean stepLeader(Message m) {
    switch (m.type()) {
      case BEAT -> {
        bcastHeartbeat();
        return true;
      }
      case CHECK_QUORUM -> {
        if (!tracker.quorumActive(id)) {
          becomeFollower(term, NONE); // lost contact with a quorum: stop serving as leader
        }
        tracker.resetRecentActive(id);
        return true;
      }
      case PROP -> {
        return propose(m);
      }
      case READ_INDEX -> {
        handleReadIndex(m);
        return true;
      }
      default -> { }
    }
    Progress pr = tracker.progress(m.from());
    if (pr == null) {
      return true; // not (or no longer) a member
    }
    switch (m.type()) {
      case APP_RESP -> handleAppendResponse(m, pr);
      case HEARTBEAT_RESP -> handleHeartbeatResponse(m, pr);
      case SNAP_STATUS -> handleSnapshotStatus(m, pr);
      case UNREACHABLE -> {
        if (pr.state == Progress.State.REPLICATE) {
          pr.becomeProbe(); // optimistic sends were probably lost
        }
      }
      case TRANSFER_LEADER -> handleTransferLeader(m.from(), pr);
      default -> { }
    }
    return true;
  }

  private boolean propose(Message m) {
    if (m.entries().isEmpty()) {
      throw new IllegalArgumentException("proposal without entries");
    }
    if (tracker.progress(id) == null || leadTransferee != NONE) {
      return false; // removed from the cluster, or handing leadership over
    }
    List<Entry> ents = m.entries();
    long confIndex = pendingConfIndex;
    for (int i = 0; i < ents.size(); i++) {
      Entry e = ents.get(i);
      if (e.type() != EntryType.CONF_CHANGE) {
        continue;
      }
      // One change at a time: the previous one must be applied before the next is appended.
      if (confIndex > log.applied || !validConfChange(e.data())) {
        return false;
      }
      confIndex = log.lastIndex() + i + 1;
    }
    if (!tryReserveUncommitted(ents)) {
      return false; // too much uncommitted already: push back instead of buffering
    }
    pendingConfIndex = confIndex;
    appendEntries(ents);
    bcastAppend();
    return true;
  }

  /**
   * Counts {@code ents} against {@code maxUncommittedBytes}; false (nothing counted) if they
   * would exceed it. Empty entries always pass, and so does anything while nothing is
   * uncommitted, so one oversized proposal cannot be refused forever (etcd's rule).
   */
  private boolean tryReserveUncommitted(List<Entry> ents) {
    long bytes = payloadBytes(ents);
    if (maxUncommittedBytes > 0 && bytes > 0 && uncommittedBytes > 0
        && uncommittedBytes + bytes > maxUncommittedBytes) {
      return false;
    }
    uncommittedBytes += bytes;
    return true;
  }

  /** Releases the bytes of entries that were committed and applied (see RawNode#advance). */
  void releaseUncommitted(List<Entry> applied) {
    if (uncommittedBytes == 0) {
      return;
    }
    uncommittedBytes = Math.max(0, uncommittedBytes - payloadBytes(applied));
  }

  private static long payloadBytes(List<Entry> ents) {
    long bytes = 0;
    for (Entry e : ents) {
      bytes += e.data().length;
    }
    return bytes;
  }

  /** Rejects changes that make no sense against the current configuration. */
  private boolean validConfChange(byte[] data) {
    ConfChange cc;
    try {
      cc = ConfChange.decode(data);
    } catch (IllegalArgumentException e) {
      return false; // garbage from a peer is dropped, never appended
    }
    long n = cc.nodeId();
    return switch (cc.type()) {
      case ADD_VOTER -> {
        if (tracker.isVoter(n)) {
          yield false;
        }
        // Promote a learner only once it has caught up, so the new quorum can commit at once.
        yield !tracker.isLearner(n) || tracker.progress(n).match >= log.committed;
      }
      case ADD_LEARNER -> !tracker.isVoter(n) && !tracker.isLearner(n);
      case REMOVE -> tracker.progress(n) != null && !(tracker.isVoter(n)
          && tracker.voters().size() == 1);
      case UPDATE -> tracker.progress(n) != null;
    };
  }

  /**
   * Appends entries stamped with this term. The leader's own copy counts toward commit only once
   * it is persisted ({@link #persisted}), so the leader may send them to followers before or
   * while it writes them (thesis §10.2.1): a quorum of durable copies is what commits.
   */
  private void appendEntries(List<Entry> ents) {
    long last = log.lastIndex();
    List<Entry> stamped = new ArrayList<>(ents.size());
    for (int i = 0; i < ents.size(); i++) {
      stamped.add(ents.get(i).withPosition(term, last + 1 + i));
    }
    log.append(stamped);
  }

  /**
   * The entries up to {@code index} (of {@code entryTerm}) are durable here: as leader, its own
   * copy now counts toward the quorum. Called when a Ready is advanced.
   */
  void persisted(long index, long entryTerm) {
    if (role != StateRole.LEADER || entryTerm != term || log.term(index) != entryTerm) {
      return;
    }
    if (tracker.progress(id).maybeUpdate(index) && maybeCommit()) {
      bcastAppend();
    }
  }

  /** Advances commit to the quorum's match index (current-term entries only, §5.4.2). */
  private boolean maybeCommit() {
    boolean firstInTerm = !committedInCurrentTerm();
    if (!log.maybeCommit(tracker.committedIndex(), term)) {
      return false;
    }
    if (firstInTerm && role == StateRole.LEADER) {
      for (Message waiting : reads.drainWaitingForCommit()) {
        handleReadIndex(waiting);
      }
    }
    return true;
  }

  private boolean committedInCurrentTerm() {
    return log.committed >= log.firstIndex() - 1 && log.term(log.committed) == term;
  }

  private void handleAppendResponse(Message m, Progress pr) {
    pr.recentActive = true;
    if (m.reject()) {
      // Fast backtracking: jump to the last index where our log can match the follower's hint.
      long probe = m.rejectHint();
      if (m.logTerm() > 0) {
        probe = log.findConflictByTerm(m.rejectHint(), m.logTerm());
      }
      if (pr.maybeDecrTo(m.index(), probe)) {
        if (pr.state == Progress.State.REPLICATE) {
          pr.becomeProbe();
        }
        sendAppend(m.from(), true);
      }
      return;
    }
    boolean wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index())) {
      return;
    }
    switch (pr.state) {
      case PROBE -> pr.becomeReplicate();
      case SNAPSHOT -> {
        if (pr.match >= pr.pendingSnapshot || pr.match + 1 >= log.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
      }
      case REPLICATE -> pr.inflights.freeLE(m.index());
    }
    if (maybeCommit()) {
      bcastAppend();
    } else if (wasPaused) {
      sendAppend(m.from(), true);
    }
    // Pipelining: keep the window full while there is something to send.
    while (sendAppend(m.from(), false)) {
      // each call sends one batch
    }
    if (m.from() == leadTransferee && pr.match == log.lastIndex()) {
      sendTimeoutNow(m.from());
    }
  }

  private void handleHeartbeatResponse(Message m, Progress pr) {
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state == Progress.State.REPLICATE && pr.inflights.full()) {
      pr.inflights.freeFirstOne();
    }
    if (pr.match < log.lastIndex()) {
      sendAppend(m.from(), true);
    }
    reads.recordAck(m.from(), m.index());
    releaseConfirmedReads();
  }

  private void handleSnapshotStatus(Message m, Progress pr) {
    if (pr.state != Progress.State.SNAPSHOT) {
      return;
    }
    if (m.reject()) {
      pr.pendingSnapshot = 0; // it did not arrive: probe again from match
    } else if (m.index() > pr.pendingSnapshot && m.index() <= log.lastIndex()) {
      pr.pendingSnapshot = m.index(); // a newer snapshot than asked for was delivered
    }
    // Either way wait for the follower's answer (or a heartbeat response) before sending more.
    pr.becomeProbe();
    pr.probeSent = true;
  }

  private void handleTransferLeader(long transferee, Progress pr) {
    if (tracker.isLearner(transferee) || transferee == id || transferee == leadTransferee) {
      return;
    }
    leadTransferee = transferee;
    electionElapsed = 0; // the transfer must finish within one election timeout
    if (pr.match == log.lastIndex()) {
      sendTimeoutNow(transferee);
    } else {
      sendAppend(transferee, true);
    }
  }

  private void sendTimeoutNow(long to) {
    send(Message.builder(MessageType.TIMEOUT_NOW).to(to));
  }

  private void handleReadIndex(Message m) {
    long from = m.from() == NONE ? id : m.from();
    if (tracker.voters().size() == 1 && tracker.isVoter(id)) {
      answerRead(from, log.committed, m.context());
      return;
    }
    if (!committedInCurrentTerm()) {
      reads.waitForCommit(m); // our commit index may lag the previous leader's
      return;
    }
    reads.add(log.committed, from, m.context());
  }

  /** Starts the heartbeat round that confirms every read queued since the last one. */
  void flushReadRound() {
    if (role == StateRole.LEADER && reads.hasUnsentRound()) {
      reads.startRound();
      bcastHeartbeat();
      releaseConfirmedReads(); // a quorum of one needs no answers
    }
  }

  private void releaseConfirmedReads() {
    for (ReadIndexQueue.PendingRead r : reads.releaseConfirmed(tracker, id)) {
      answerRead(r.from(), r.index(), r.context());
    }
  }

  private void answerRead(long to, long index, byte[] context) {
    if (to == id) {
      readStates.add(new ReadState(index, context));
    } else {
      send(Message.builder(MessageType.READ_INDEX_RESP).to(to).index(index).context(context));
    }
  }

  void bcastAppend() {
    for (long peer : tracker.progressMap().keySet()) {
      if (peer != id) {
        sendAppend(peer, true);
      }
    }
  }

  private void bcastHeartbeat() {
    long round = reads.lastSentRound();
    for (Map.Entry<Long, Progress> e : tracker.progressMap().entrySet()) {
      if (e.getKey() == id) {
        continue;
      }
      // Never tell a follower to commit beyond what it is known to hold.
      long commit = Math.min(e.getValue().match, log.committed);
      send(Message.builder(MessageType.HEARTBEAT).to(e.getKey()).commit(commit).index(round));
    }
  }

  /**
   * Sends the next batch of entries to {@code to} (or a snapshot if they are compacted), unless
   * flow control pauses it. With {@code sendIfEmpty} an APP without entries still goes out to
   * carry the commit index or probe. Returns whether a message was sent.
   */
  private boolean sendAppend(long to, boolean sendIfEmpty) {
    Progress pr = tracker.progress(to);
    if (pr == null || pr.isPaused()) {
      return false;
    }
    if (pr.next < log.firstIndex()) {
      return sendSnapshot(to, pr);
    }
    long prevIndex = pr.next - 1;
    long prevTerm = log.term(prevIndex);
    List<Entry> ents = log.entriesFrom(pr.next, maxSizePerMsgBytes);
    if (ents.isEmpty() && !sendIfEmpty) {
      return false;
    }
    Message m = Message.builder(MessageType.APP).to(to).index(prevIndex).logTerm(prevTerm)
        .entries(ents).commit(log.committed).term(term).from(id).build();
    long last = ents.isEmpty() ? prevIndex : ents.get(ents.size() - 1).index();
    pr.sentEntries(ents.size(), last, m.entriesSizeBytes());
    outbox.add(m);
    return true;
  }

  private boolean sendSnapshot(long to, Progress pr) {
    if (!pr.recentActive) {
      return false; // do not ship a snapshot to a node that may be down
    }
    Snapshot snap = log.snapshot();
    if (snap.isEmpty()) {
      throw new IllegalStateException("need a snapshot for " + to + " but storage has none");
    }
    pr.becomeSnapshot(snap.index());
    send(Message.builder(MessageType.SNAP).to(to).snapshot(snap));
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Candidate (PreVote and real).

  private boolean stepCandidate(Message m) {
    MessageType myResp = role == StateRole.PRE_CANDIDATE
        ? MessageType.PRE_VOTE_RESP : MessageType.VOTE_RESP;
    switch (m.type()) {
      case PROP -> {
        return false;
      }
      case APP -> {
        becomeFollower(m.term(), m.from()); // a leader of our term exists (§5.2)
        handleAppendEntries(m);
      }
      case HEARTBEAT -> {
        becomeFollower(m.term(), m.from());
        handleHeartbeat(m);
      }
      case SNAP -> {
        becomeFollower(m.term(), m.from());
        handleSnapshot(m);
      }
      default -> {
        if (m.type() == myResp) {
          switch (tracker.recordVote(m.from(), !m.reject())) {
            case WON -> wonElection(role == StateRole.PRE_CANDIDATE
                ? CampaignType.PRE_ELECTION : CampaignType.ELECTION);
            case LOST -> becomeFollower(term, NONE);
            case PENDING -> { }
          }
        }
        // READ_INDEX, TIMEOUT_NOW, TRANSFER_LEADER: no leader to serve or forward to; dropped.
      }
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Follower.

  private boolean stepFollower(Message m) {
    switch (m.type()) {
      case PROP, READ_INDEX, TRANSFER_LEADER -> {
        if (leaderId == NONE) {
          return false;
        }
        forward(m);
      }
      case APP -> {
        electionElapsed = 0;
        leaderId = m.from();
        handleAppendEntries(m);
      }
      case HEARTBEAT -> {
        electionElapsed = 0;
        leaderId = m.from();
        handleHeartbeat(m);
      }
      case SNAP -> {
        electionElapsed = 0;
        leaderId = m.from();
        handleSnapshot(m);
      }
      case TIMEOUT_NOW -> {
        if (promotable() && !log.hasCommittedUnappliedConfChange()) {
          campaign(CampaignType.TRANSFER); // the leader asked: skip PreVote and the lease
        }
      }
      case READ_INDEX_RESP -> readStates.add(new ReadState(m.index(), m.context()));
      default -> { }
    }
    return true;
  }

  /**
   * Carries a request on to the leader, always as this member's: peers deliver only a member's
   * own messages (the leader's peer service ends a stream that carries another's). A proposal
   * another member sent here goes on as this member's (a leader answers no proposal). A
   * READ_INDEX or TRANSFER_LEADER names in {@code from} whom the leader answers or hands over to,
   * so only this member's own travel; another member's (it took this member for the leader), or
   * a transfer to another member asked here, is dropped: its requester asks again or times out.
   */
  private void forward(Message m) {
    if (m.type() != MessageType.PROP && m.from() != NONE && m.from() != id) {
      return;
    }
    Message.Builder b = m.toBuilder().to(leaderId).from(id);
    if (m.type() == MessageType.TRANSFER_LEADER) {
      b.term(term);
    }
    outbox.add(b.build());
  }

  private void handleAppendEntries(Message m) {
    if (m.index() < log.committed) {
      // Everything up to our commit index already matches the leader's log.
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(log.committed));
      return;
    }
    long lastNew = log.maybeAppend(m.index(), m.logTerm(), m.commit(), m.entries());
    if (lastNew >= 0) {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(lastNew));
      return;
    }
    // Reject with a hint: our last entry at or below the probe whose term is <= the leader's
    // term there; the leader resumes from the last index where both logs can agree.
    long hintIndex = log.findConflictByTerm(Math.min(m.index(), log.lastIndex()), m.logTerm());
    long hintTerm = log.term(hintIndex);
    send(Message.builder(MessageType.APP_RESP).to(m.from()).index(m.index()).reject(true)
        .rejectHint(hintIndex).logTerm(hintTerm));
  }

  private void handleHeartbeat(Message m) {
    log.commitTo(Math.min(m.commit(), log.lastIndex()));
    send(Message.builder(MessageType.HEARTBEAT_RESP).to(m.from()).index(m.index()));
  }

  private void handleSnapshot(Message m) {
    Snapshot s = m.snapshot();
    if (restore(s)) {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(log.lastIndex()));
    } else {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(log.committed));
    }
  }

  /** Installs a leader's snapshot unless we already have everything it holds. */
  private boolean restore(Snapshot s) {
    if (s.index() <= log.committed) {
      return false;
    }
    if (log.matchTerm(s.index(), s.term())) {
      log.commitTo(s.index()); // we hold the entry; just fast-forward the commit index
      return false;
    }
    log.restore(s);
    tracker.reset(s.confState(), log.lastIndex() + 1);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Membership.

  /**
   * Applies a committed configuration change (called by the application, in log order, as it
   * applies the entry). Returns the configuration now in effect.
   */
  ConfState applyConfChange(ConfChange cc) {
    long next = log.lastIndex() + 1;
    switch (cc.type()) {
      case ADD_VOTER -> tracker.addVoter(cc.nodeId(), next);
      case ADD_LEARNER -> {
        if (!tracker.isVoter(cc.nodeId())) {
          tracker.addLearner(cc.nodeId(), next);
        }
      }
      case REMOVE -> tracker.remove(cc.nodeId());
      case UPDATE -> {
        return tracker.confState(); // the configuration is unchanged
      }
    }
    if (role == StateRole.LEADER) {
      afterLeaderConfChange();
    } else if (role != StateRole.FOLLOWER && !promotable()) {
      becomeFollower(term, NONE); // a candidate that is no longer a voter cannot win
    }
    return tracker.confState();
  }

  private void afterLeaderConfChange() {
    if (!tracker.isVoter(id)) {
      // Removed: hand off to the most caught-up voter so the cluster need not wait an election
      // timeout, then step down. We never campaign again (not promotable).
      long lastIndex = log.lastIndex();
      for (long voter : tracker.voters()) {
        if (tracker.progress(voter).match == lastIndex) {
          sendTimeoutNow(voter);
          break;
        }
      }
      becomeFollower(term, NONE);
      return;
    }
    if (leadTransferee != NONE && !tracker.isVoter(leadTransferee)) {
      leadTransferee = NONE;
    }
    // A smaller quorum may commit more and confirm queued reads; newcomers need a first APP.
    maybeCommit();
    bcastAppend();
    releaseConfirmedReads();
  }

  // ---------------------------------------------------------------------------------------------
  // Output.

  /** Queues a message; stamps our id, and our term unless the type carries its own. */
  private void send(Message.Builder b) {
    b.from(id);
    MessageType t = b.type();
    boolean ownTerm = t == MessageType.VOTE || t == MessageType.PRE_VOTE
        || t == MessageType.VOTE_RESP || t == MessageType.PRE_VOTE_RESP;
    if (ownTerm) {
      if (b.term() == 0) {
        throw new IllegalStateException(t + " must carry an explicit term");
      }
    } else if (t != MessageType.PROP && t != MessageType.READ_INDEX) {
      b.term(term);
    }
    outbox.add(b.build());
  }

  int randomizedElectionTicks() {
    return randomizedElectionTicks;
  }
}
