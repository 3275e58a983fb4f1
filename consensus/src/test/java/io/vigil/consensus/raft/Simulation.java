package io.vigil.consensus.raft;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A deterministic cluster simulation: N nodes (plus spares that join as learners and get promoted),
 * a seeded network that drops, delays, duplicates and reorders messages, partitions that come and
 * go, crashes that lose everything not persisted, log compaction, membership changes, leadership
 * transfers, clients that propose and read. After every Ready, {@link SafetyChecker} verifies the
 * safety properties; at the end the network heals, crashed nodes restart (removed ones are shut
 * down, as an operator would), and a leader must get a fresh proposal applied on every member
 * within {@link #LIVENESS_BOUND_TICKS} (liveness). Knobs (cluster size, loss, duplication, delay,
 * batch and window sizes, heartbeat period, PreVote and CheckQuorum) are drawn from the seed.
 *
 * <p>Everything random comes from one {@link Random} seeded with {@link #seed}; all iteration is
 * over sorted maps. The same seed therefore replays the same run, message for message
 * ({@link Result#fingerprint()} proves it).
 */
final class Simulation {
  /** Simulated time: messages are delayed in units, nodes tick every {@code UNITS_PER_TICK}. */
  static final int UNITS_PER_TICK = 10;
  static final int ELECTION_TICKS = 10;
  /** After healing, a leader must be elected and a proposal applied everywhere within this. */
  static final int LIVENESS_BOUND_TICKS = 30 * ELECTION_TICKS;
  private static final int TRACE_LINES = 60;

  /** Knobs drawn from the seed, so the seed alone identifies a run. */
  record Options(int voters, int spares, int chaosTicks, double dropRate, double dupRate,
      int maxDelayUnits, long maxSizePerMsgBytes, int maxInflightMsgs, long maxInflightBytes,
      int heartbeatTicks, boolean preVote, boolean checkQuorum) {

    static Options forSeed(long seed, int chaosTicks) {
      Random r = new Random(seed ^ 0x5DEECE66DL);
      double[] drops = {0, 0.01, 0.05, 0.15};
      double[] dups = {0, 0.02, 0.1};
      int[] delays = {3, 10, 25, 60};
      long maxMsg = 64 + r.nextInt(2048);
      return new Options(r.nextBoolean() ? 3 : 5, 2, chaosTicks, drops[r.nextInt(drops.length)],
          dups[r.nextInt(dups.length)], delays[r.nextInt(delays.length)], maxMsg,
          1 + r.nextInt(16), maxMsg * (1 + r.nextInt(8)), 1 + r.nextInt(3),
          r.nextInt(5) > 0, r.nextInt(5) > 0);
    }
  }

  record Result(long seed, long fingerprint, long maxCommit, long readsAnswered,
      long livenessTicks, int leaderChanges, int snapshotsInstalled, int confChangesApplied,
      int crashes) {}

  private record Flight(long deliverAt, long seq, Message message) {}

  private static final class SimNode {
    final long id;
    final MemoryStorage storage;
    RawNode node;
    int incarnation;
    long appliedIndex;
    long stateHash;
    ConfState confState = ConfState.EMPTY;
    long verifiedCommit;
    /** Shut down for good after its removal (as an operator would); never restarted. */
    boolean retired;

    SimNode(long id, MemoryStorage storage) {
      this.id = id;
      this.storage = storage;
    }

    boolean up() {
      return node != null;
    }
  }

  final long seed;
  private final Options opt;
  private final Random rnd;
  private final TreeMap<Long, SimNode> nodes = new TreeMap<>();
  private final PriorityQueue<Flight> flights = new PriorityQueue<>(
      Comparator.comparingLong(Flight::deliverAt).thenComparingLong(Flight::seq));
  private final TreeMap<Long, Integer> partitionGroup = new TreeMap<>();
  private final SafetyChecker checker = new SafetyChecker();
  private final ArrayDeque<String> trace = new ArrayDeque<>();
  private final Set<Long> everProposedToAdd = new TreeSet<>();
  /** Nodes whose removal has been committed (and applied somewhere). */
  private final Set<Long> removed = new TreeSet<>();
  private double dropRate;
  private double dupRate;
  private boolean chaos = true;
  private long flightSeq;
  private long nowUnits;
  private long tick;
  private long fingerprint = 17;
  private long proposalSeq;
  private long readSeq;
  private int leaderChanges;
  private int snapshotsInstalled;
  private int confChangesApplied;
  private int crashes;
  private byte[] livenessProbe;
  private long livenessProbeIndex;

  Simulation(long seed, Options opt) {
    this.seed = seed;
    this.opt = opt;
    this.rnd = new Random(seed);
    this.dropRate = opt.dropRate();
    this.dupRate = opt.dupRate();
    Set<Long> voters = new TreeSet<>();
    for (long id = 1; id <= opt.voters(); id++) {
      voters.add(id);
    }
    ConfState initial = new ConfState(voters, Set.of());
    for (long id = 1; id <= opt.voters() + opt.spares(); id++) {
      boolean founder = id <= opt.voters();
      MemoryStorage storage = founder
          ? MemoryStorage.bootstrap(initial, encodeState(1, initialHash())) : new MemoryStorage();
      SimNode n = new SimNode(id, storage);
      nodes.put(id, n);
      restart(n);
    }
  }

  Result run() {
    try {
      for (int i = 0; i < opt.chaosTicks(); i++) {
        oneTick();
      }
      long livenessTicks = settle();
      List<MemoryStorage> logs = new ArrayList<>();
      nodes.values().forEach(n -> logs.add(n.storage));
      checker.checkLogsPairwise(logs);
      return new Result(seed, fingerprint, checker.maxCommit(), checker.readsAnswered(),
          livenessTicks, leaderChanges, snapshotsInstalled, confChangesApplied, crashes);
    } catch (RuntimeException | AssertionError e) {
      throw new AssertionError(failureReport(e), e);
    }
  }

  private String failureReport(Throwable e) {
    StringBuilder sb = new StringBuilder()
        .append("Raft simulation failed: seed=").append(seed).append(" at tick ").append(tick)
        .append(": ").append(e).append('\n')
        .append("  options: ").append(opt).append('\n')
        .append("  replay:  ./mvnw -o -q -pl consensus test -Dtest=RaftSimulationTest#replay"
            + " -Dvigil.raft.sim.seed=").append(seed).append('\n')
        .append("  last events:\n");
    trace.forEach(line -> sb.append("    ").append(line).append('\n'));
    return sb.toString();
  }

  private void trace(String event) {
    if (trace.size() == TRACE_LINES) {
      trace.removeFirst();
    }
    trace.addLast("t" + tick + "." + (nowUnits % UNITS_PER_TICK) + " " + event);
  }

  // ---------------------------------------------------------------------------------------------
  // Time.

  private void oneTick() {
    if (chaos) {
      faults();
      clients();
    }
    for (SimNode n : nodes.values()) {
      if (n.up()) {
        n.node.tick();
        drain(n);
      }
    }
    long end = (tick + 1) * UNITS_PER_TICK;
    while (!flights.isEmpty() && flights.peek().deliverAt() < end) {
      Flight f = flights.poll();
      nowUnits = f.deliverAt();
      deliver(f.message());
    }
    tick++;
    nowUnits = tick * UNITS_PER_TICK;
  }

  /** Heals everything and measures how long until a fresh proposal is applied by all members. */
  private long settle() {
    chaos = false;
    partitionGroup.clear();
    dropRate = 0;
    dupRate = 0;
    for (SimNode n : nodes.values()) {
      if (!n.up()) {
        restart(n);
      }
    }
    trace("settle: network healed, all nodes up");
    livenessProbe = ("live-" + seed).getBytes(StandardCharsets.UTF_8);
    long start = tick;
    long lastProposal = -1;
    while (tick - start < LIVENESS_BOUND_TICKS) {
      oneTick();
      retireRemovedNodes();
      SimNode leader = currentLeader();
      if (leader == null) {
        continue;
      }
      if (livenessProbeIndex == 0 && (lastProposal < 0 || tick - lastProposal >= 3L * ELECTION_TICKS)) {
        lastProposal = tick;
        leader.node.propose(livenessProbe);
        drain(leader);
      }
      if (livenessProbeIndex > 0 && allMembersApplied(leader, livenessProbeIndex)) {
        return tick - start;
      }
    }
    throw new SafetyChecker.Violation("liveness: no leader applied a proposal on every member within "
        + LIVENESS_BOUND_TICKS + " ticks of healing; leader=" + describe(currentLeader())
        + " probeIndex=" + livenessProbeIndex + " nodes=" + describeAll());
  }

  /**
   * Without PreVote and CheckQuorum a removed node that never learned of its removal keeps
   * campaigning with ever higher terms (thesis §4.2.3); operators shut removed nodes down.
   */
  private void retireRemovedNodes() {
    for (SimNode n : nodes.values()) {
      if (removed.contains(n.id) && !n.retired) {
        n.retired = true;
        if (n.up()) {
          crash(n, "retire removed node");
        }
      }
    }
  }

  private boolean allMembersApplied(SimNode leader, long index) {
    ConfState cs = leader.node.raft().tracker.confState();
    for (SimNode n : nodes.values()) {
      if (cs.contains(n.id) && n.appliedIndex < index) {
        return false;
      }
    }
    return true;
  }

  private SimNode currentLeader() {
    SimNode best = null;
    for (SimNode n : nodes.values()) {
      if (n.up() && n.node.raft().role == StateRole.LEADER
          && (best == null || n.node.raft().term > best.node.raft().term)) {
        best = n;
      }
    }
    return best;
  }

  // ---------------------------------------------------------------------------------------------
  // Faults and clients.

  private void faults() {
    if (partitionGroup.isEmpty() && rnd.nextDouble() < 0.01) {
      partition(rnd.nextBoolean() ? currentLeader() : null);
    } else if (!partitionGroup.isEmpty() && rnd.nextDouble() < 0.04) {
      partitionGroup.clear();
      trace("heal");
    }
    if (rnd.nextDouble() < 0.008) {
      SimNode n = randomNode(true);
      if (n != null) {
        crash(n, "crash");
      }
    }
    if (rnd.nextDouble() < 0.004) {
      SimNode leader = currentLeader(); // leaders die with entries on a minority (figure 8)
      if (leader != null) {
        crash(leader, "crash leader");
      }
    }
    for (SimNode n : nodes.values()) {
      if (!n.up() && !n.retired && rnd.nextDouble() < 0.04) {
        restart(n);
      }
    }
    if (rnd.nextDouble() < 0.03) {
      SimNode n = randomNode(true);
      if (n != null) {
        compact(n);
      }
    }
    if (rnd.nextDouble() < 0.01) {
      changeMembership();
    }
    if (rnd.nextDouble() < 0.004) {
      SimNode leader = currentLeader();
      if (leader != null) {
        long to = 1 + rnd.nextInt(nodes.size());
        trace("transfer leadership " + leader.id + " -> " + to);
        leader.node.transferLeadership(to);
        drain(leader);
      }
    }
  }

  /** Cuts a random minority off (including {@code leader} if given). */
  private void partition(SimNode leader) {
    List<Long> ids = new ArrayList<>(nodes.keySet());
    int minority = 1 + rnd.nextInt(ids.size() / 2);
    StringBuilder sb = new StringBuilder("partition off");
    for (int i = 0; i < minority; i++) {
      long id = leader != null && i == 0 ? leader.id : ids.get(rnd.nextInt(ids.size()));
      ids.remove(id);
      partitionGroup.put(id, 1);
      sb.append(' ').append(id);
    }
    trace(sb.toString());
  }

  private void clients() {
    if (rnd.nextDouble() < 0.3) {
      SimNode target = rnd.nextDouble() < 0.7 ? currentLeader() : randomNode(true);
      if (target != null) {
        byte[] data = ("p" + seed + "-" + proposalSeq++).getBytes(StandardCharsets.UTF_8);
        target.node.propose(data);
        drain(target);
      }
    }
    if (rnd.nextDouble() < 0.2) {
      // Half of the reads go to a node that believes it leads: possibly a deposed one.
      SimNode target = rnd.nextBoolean() ? randomSelfProclaimedLeader() : randomNode(true);
      if (target != null) {
        int burst = 1 + rnd.nextInt(20);
        for (int i = 0; i < burst; i++) {
          long ctx = readSeq++;
          checker.onReadIssued(ctx);
          target.node.readIndex(ByteBuffer.allocate(8).putLong(ctx).array());
        }
        drain(target);
      }
    }
  }

  private void changeMembership() {
    SimNode leader = currentLeader();
    if (leader == null) {
      return;
    }
    Status st = leader.node.status();
    ConfState cs = st.confState();
    ConfChange cc = null;
    for (long learner : cs.learners()) {
      Status.PeerProgress pr = st.progress().get(learner);
      if (pr != null && pr.match() >= st.hardState().commit()) {
        cc = new ConfChange(ConfChange.Type.ADD_VOTER, learner);
        break;
      }
    }
    if (cc == null) {
      for (long id : nodes.keySet()) {
        if (!cs.contains(id) && id > opt.voters() && !everProposedToAdd.contains(id)) {
          cc = new ConfChange(ConfChange.Type.ADD_LEARNER, id);
          break;
        }
      }
    }
    if (cc == null && cs.voters().size() > 3 && rnd.nextBoolean()) {
      List<Long> voters = new ArrayList<>(cs.voters());
      cc = new ConfChange(ConfChange.Type.REMOVE, voters.get(rnd.nextInt(voters.size())));
    }
    if (cc == null) {
      return;
    }
    boolean accepted = leader.node.proposeConfChange(cc);
    trace("propose " + cc + " at " + leader.id + (accepted ? "" : " (dropped)"));
    if (accepted && cc.type() == ConfChange.Type.ADD_LEARNER) {
      everProposedToAdd.add(cc.nodeId());
    }
    drain(leader);
  }

  private void compact(SimNode n) {
    long snapIndex = n.storage.snapshot().index();
    if (n.appliedIndex <= snapIndex + 2) {
      return;
    }
    n.storage.createSnapshot(n.appliedIndex, n.confState, encodeState(n.appliedIndex, n.stateHash));
    long keep = rnd.nextInt(4);
    n.storage.compact(Math.max(snapIndex, n.appliedIndex - keep));
    trace("compact " + n.id + " to " + n.appliedIndex);
  }

  private SimNode randomSelfProclaimedLeader() {
    List<SimNode> leaders = new ArrayList<>();
    for (SimNode n : nodes.values()) {
      if (n.up() && n.node.raft().role == StateRole.LEADER) {
        leaders.add(n);
      }
    }
    return leaders.isEmpty() ? null : leaders.get(rnd.nextInt(leaders.size()));
  }

  private SimNode randomNode(boolean up) {
    List<SimNode> candidates = new ArrayList<>();
    for (SimNode n : nodes.values()) {
      if (n.up() == up) {
        candidates.add(n);
      }
    }
    return candidates.isEmpty() ? null : candidates.get(rnd.nextInt(candidates.size()));
  }

  private void crash(SimNode n, String why) {
    n.node = null; // the state machine and everything unpersisted are gone
    crashes++;
    trace(why + " " + n.id);
  }

  private void restart(SimNode n) {
    n.incarnation++;
    Snapshot snap = n.storage.snapshot();
    n.appliedIndex = snap.index();
    n.stateHash = snap.isEmpty() ? 0 : decodeHash(snap.data());
    n.confState = snap.confState();
    n.verifiedCommit = Math.max(n.verifiedCommit, n.storage.hardState().commit());
    Config config = Config.builder().id(n.id).electionTicks(ELECTION_TICKS)
        .heartbeatTicks(opt.heartbeatTicks()).applied(snap.index())
        .preVote(opt.preVote()).checkQuorum(opt.checkQuorum())
        .maxSizePerMsgBytes(opt.maxSizePerMsgBytes()).maxInflightMsgs(opt.maxInflightMsgs())
        .maxInflightBytes(opt.maxInflightBytes())
        .randomSeed(seed * 1_000_003L + n.id * 7919L + n.incarnation).build();
    n.node = new RawNode(config, n.storage);
    trace("start " + n.id + " (incarnation " + n.incarnation + ", applied " + n.appliedIndex + ")");
    drain(n);
  }

  // ---------------------------------------------------------------------------------------------
  // The Ready loop of one node: persist, send, apply, read, advance.

  private void drain(SimNode n) {
    while (n.up() && n.node.hasReady()) {
      Ready rd = n.node.ready();
      handle(n, rd);
    }
  }

  private void handle(SimNode n, Ready rd) {
    rd.snapshot().ifPresent(s -> n.storage.applySnapshot(s));
    n.storage.append(rd.entries());
    if (chaos && rd.hardState().isPresent() && rnd.nextDouble() < 0.001) {
      crash(n, "crash between persisting entries and hard state, of"); // allowed by the contract
      return;
    }
    rd.hardState().ifPresent(n.storage::setHardState);
    checker.onPersisted(n.id, n.storage, rd, n.verifiedCommit);
    rd.hardState().ifPresent(hs -> n.verifiedCommit = Math.max(n.verifiedCommit, hs.commit()));
    rd.softState().ifPresent(ss -> {
      trace("node " + n.id + " is " + ss.role() + " in term " + n.node.raft().term);
      if (ss.role() == StateRole.LEADER) {
        leaderChanges++;
        checker.onLeader(n.id, n.node.raft().term, n.node.raft().log);
      }
    });
    if (chaos && rnd.nextDouble() < 0.002) {
      crash(n, "crash after persisting, before sending, of"); // the Ready is never advanced
      return;
    }
    for (Message m : rd.messages()) {
      send(m);
    }
    rd.snapshot().ifPresent(s -> {
      n.appliedIndex = s.index();
      n.stateHash = decodeHash(s.data());
      n.confState = s.confState();
      trace("node " + n.id + " restored " + s);
      snapshotsInstalled++;
      checker.onSnapshotRestored(n.id, s, n.stateHash);
    });
    for (Entry e : rd.committedEntries()) {
      apply(n, e);
    }
    for (ReadState rs : rd.readStates()) {
      checker.onReadState(n.id, rs);
    }
    n.node.advance(rd);
  }

  private void apply(SimNode n, Entry e) {
    long prev = n.appliedIndex;
    n.appliedIndex = e.index();
    n.stateHash = mix(n.stateHash, e);
    if (e.type() == EntryType.CONF_CHANGE) {
      ConfChange cc = ConfChange.decode(e.data());
      n.confState = n.node.applyConfChange(cc);
      confChangesApplied++;
      if (cc.type() == ConfChange.Type.REMOVE) {
        removed.add(cc.nodeId());
      }
      trace("node " + n.id + " applied " + cc + " at " + e.index() + " -> " + n.confState);
    }
    if (livenessProbe != null && Arrays.equals(e.data(), livenessProbe)) {
      livenessProbeIndex = e.index();
    }
    checker.onApplied(n.id, prev, e, n.stateHash);
  }

  // ---------------------------------------------------------------------------------------------
  // Network.

  private boolean partitioned(long a, long b) {
    return !partitionGroup.getOrDefault(a, 0).equals(partitionGroup.getOrDefault(b, 0));
  }

  private void send(Message m) {
    fingerprint = fingerprint * 0x9E37_79B9_7F4A_7C15L + m.type().ordinal() + 31 * m.from()
        + 961 * m.to() + 29_791 * m.term() + 923_521 * m.index() + 28_629_151 * m.commit()
        + 887_503_681L * m.entries().size() + (m.reject() ? 1 : 0);
    if (!nodes.containsKey(m.to()) || partitioned(m.from(), m.to())
        || rnd.nextDouble() < dropRate) {
      dropped(m);
      return;
    }
    enqueue(m);
    if (rnd.nextDouble() < dupRate) {
      enqueue(m);
    }
  }

  private void enqueue(Message m) {
    long delay = 1 + rnd.nextInt(opt.maxDelayUnits());
    flights.add(new Flight(nowUnits + delay, flightSeq++, m));
  }

  private void deliver(Message m) {
    SimNode to = nodes.get(m.to());
    if (!to.up() || partitioned(m.from(), m.to())) {
      dropped(m);
      return;
    }
    to.node.step(m);
    drain(to);
    if (m.type() == MessageType.SNAP) {
      reportSnapshot(m, true);
    }
  }

  private void dropped(Message m) {
    if (m.type() == MessageType.SNAP) {
      reportSnapshot(m, false);
    }
  }

  /** The transport's duty: tell the sender whether each snapshot got through. */
  private void reportSnapshot(Message m, boolean delivered) {
    SimNode from = nodes.get(m.from());
    if (from != null && from.up()) {
      from.node.reportSnapshot(m.to(), delivered);
      drain(from);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The application: a hash chain over applied entries, snapshotted as (index, hash).

  private static long initialHash() {
    return 0x1234_5678_9ABC_DEF0L;
  }

  private static long mix(long h, Entry e) {
    long x = h * 0x9E37_79B9_7F4A_7C15L + e.term() * 1_000_003L + Arrays.hashCode(e.data())
        + e.type().ordinal();
    x ^= x >>> 31;
    x *= 0xBF58_476D_1CE4_E5B9L;
    return x ^ (x >>> 29);
  }

  private static byte[] encodeState(long index, long hash) {
    return ByteBuffer.allocate(16).putLong(index).putLong(hash).array();
  }

  private static long decodeHash(byte[] data) {
    return ByteBuffer.wrap(data).getLong(8);
  }

  private String describe(SimNode n) {
    if (n == null) {
      return "none";
    }
    if (!n.up()) {
      return n.id + "(down)";
    }
    Raft r = n.node.raft();
    return n.id + "(" + r.role + " t" + r.term + " last " + r.log.lastIndex() + " commit "
        + r.log.committed + " applied " + n.appliedIndex + " conf " + r.tracker.confState() + ")";
  }

  private String describeAll() {
    StringBuilder sb = new StringBuilder();
    nodes.values().forEach(n -> sb.append("\n    ").append(describe(n)));
    return sb.toString();
  }
}
