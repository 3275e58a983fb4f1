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
 * go (symmetric minorities, one-way cuts, and bridges where one node hears both sides), clocks
 * that run at different rates (tick skew), crashes that lose everything not yet synced, log
 * compaction, membership changes, leadership transfers, clients that propose and read. After
 * every Ready, {@link SafetyChecker} verifies the safety properties, and before its messages
 * leave, that what each one vouches for is durable (see {@link #checkDurableBeforeSend}); at the
 * end the network heals, crashed nodes restart (removed ones are shut down, as an operator
 * would), and a leader must get a fresh proposal applied on every member within
 * {@link #LIVENESS_BOUND_TICKS} (liveness). Knobs (cluster size, loss, duplication, delay, batch
 * and window sizes, heartbeat period, PreVote, CheckQuorum, tick rates) are drawn from the seed.
 *
 * <p>Durability model: a Ready with {@code mustSync} is written and synced before its messages
 * leave, and its sync also makes every earlier write durable. A Ready without {@code mustSync}
 * is written but stays unsynced until the next sync; a crash loses a random suffix of the
 * unsynced writes (all of them, some, or none). A crash while a Ready is being handled loses it
 * whole (before any write) or leaves it half written (entries without their hard state).
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
      int heartbeatTicks, boolean preVote, boolean checkQuorum, List<Integer> tickPeriodUnits) {

    static Options forSeed(long seed, int chaosTicks) {
      Random r = new Random(seed ^ 0x5DEECE66DL);
      double[] drops = {0, 0.01, 0.05, 0.15};
      double[] dups = {0, 0.02, 0.1};
      int[] delays = {3, 10, 25, 60};
      long maxMsg = 64 + r.nextInt(2048);
      int voters = r.nextBoolean() ? 3 : 5;
      double drop = drops[r.nextInt(drops.length)];
      double dup = dups[r.nextInt(dups.length)];
      int delay = delays[r.nextInt(delays.length)];
      int inflight = 1 + r.nextInt(16);
      long inflightBytes = maxMsg * (1 + r.nextInt(8));
      int heartbeat = 1 + r.nextInt(3);
      boolean preVote = r.nextInt(5) > 0;
      boolean checkQuorum = r.nextInt(5) > 0;
      // Tick skew: in half the runs each node's clock runs at its own rate (a tick every 7..14
      // units instead of UNITS_PER_TICK), as with slow event loops or drifting timers.
      int[] periods = {7, 8, 10, 12, 14};
      boolean skew = r.nextBoolean();
      List<Integer> tickPeriods = new ArrayList<>();
      for (int i = 0; i < voters + 2; i++) {
        tickPeriods.add(skew ? periods[r.nextInt(periods.length)] : UNITS_PER_TICK);
      }
      return new Options(voters, 2, chaosTicks, drop, dup, delay, maxMsg, inflight,
          inflightBytes, heartbeat, preVote, checkQuorum, List.copyOf(tickPeriods));
    }
  }

  record Result(long seed, long fingerprint, long maxCommit, long readsAnswered,
      long livenessTicks, int leaderChanges, int snapshotsInstalled, int confChangesApplied,
      int crashes) {}

  private record Flight(long deliverAt, long seq, Message message) {}

  /**
   * One write of a Ready without mustSync, not yet covered by a sync: how to undo it. Undone in
   * reverse order, the records restore the storage as it was before the first of them.
   */
  private record Unsynced(HardState hardStateBefore, MemoryStorage storageBefore) {}

  private static final class SimNode {
    final long id;
    /** What the node wrote (the OS page cache): durable except for {@link #unsynced}. */
    MemoryStorage storage;
    /** Writes since the last sync, oldest first; a crash may lose any suffix of them. */
    final List<Unsynced> unsynced = new ArrayList<>();
    /** Ticks every this many units (tick skew); the offset staggers nodes with equal rates. */
    int tickPeriodUnits;
    int tickPhaseUnits;
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
  /** One-way cuts, as {@code from * LINK_KEY + to}: messages from -> to are dropped. */
  private final Set<Long> cutLinks = new TreeSet<>();
  private static final long LINK_KEY = 1 << 16;
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
      n.tickPeriodUnits = opt.tickPeriodUnits().get((int) id - 1);
      n.tickPhaseUnits = (int) (id * 3 % n.tickPeriodUnits);
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
        .append("  replay:  ").append(replayCommand()).append('\n')
        .append("  last events:\n");
    trace.forEach(line -> sb.append("    ").append(line).append('\n'));
    return sb.toString();
  }

  /**
   * The command that reruns exactly this run: the seed and the chaos ticks determine every
   * option and every random draw, and the mutation (if the mutation check switched one on)
   * determines the core's behaviour.
   */
  String replayCommand() {
    return "./mvnw -q -B -pl consensus -am test -Dtest=RaftSimulationTest#replay"
        + " -Dsurefire.failIfNoSpecifiedTests=false " + replayKnobs();
  }

  /** The system properties {@code RaftSimulationTest#replay} reads back. */
  String replayKnobs() {
    String knobs = "-D" + RaftSimulationTest.SEED_PROP_NAME + "=" + seed
        + " -D" + RaftSimulationTest.TICKS_PROP_NAME + "=" + opt.chaosTicks();
    if (Mutation.active != Mutation.NONE) {
      knobs += " -D" + RaftSimulationTest.MUTATION_PROP_NAME + "=" + Mutation.active.name();
    }
    return knobs;
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
    long end = (tick + 1) * UNITS_PER_TICK;
    for (long u = tick * UNITS_PER_TICK; u < end; u++) {
      nowUnits = u;
      // Each node ticks on its own clock; at equal units, nodes tick before messages arrive.
      for (SimNode n : nodes.values()) {
        if (n.up() && (u + n.tickPhaseUnits) % n.tickPeriodUnits == 0) {
          n.node.tick();
          drain(n);
        }
      }
      while (!flights.isEmpty() && flights.peek().deliverAt() <= u) {
        Flight f = flights.poll();
        deliver(f.message());
      }
    }
    tick++;
    nowUnits = tick * UNITS_PER_TICK;
  }

  /** Heals everything and measures how long until a fresh proposal is applied by all members. */
  private long settle() {
    chaos = false;
    partitionGroup.clear();
    cutLinks.clear();
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
    boolean healthy = partitionGroup.isEmpty() && cutLinks.isEmpty();
    if (healthy && rnd.nextDouble() < 0.012) {
      SimNode target = rnd.nextBoolean() ? currentLeader() : null;
      switch (rnd.nextInt(4)) {
        case 0, 1 -> partition(target);
        case 2 -> oneWayCut(target);
        default -> bridge(target);
      }
    } else if (!healthy && rnd.nextDouble() < 0.04) {
      partitionGroup.clear();
      cutLinks.clear();
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

  /**
   * Asymmetric fault: {@code x} (random if null) stops hearing from, or stops reaching, some or
   * all others, while the other direction works: a leader that can send heartbeats but never
   * hears the answers, or a node that hears the leader but whose votes and acks are lost.
   */
  private void oneWayCut(SimNode x) {
    long id = x != null ? x.id : 1 + rnd.nextInt(nodes.size());
    boolean inbound = rnd.nextBoolean();
    boolean all = rnd.nextBoolean();
    StringBuilder sb = new StringBuilder("one-way cut: " + id + (inbound ? " hears nothing from"
        : " cannot reach"));
    for (long other : nodes.keySet()) {
      if (other == id || (!all && rnd.nextBoolean())) {
        continue;
      }
      cutLinks.add(inbound ? other * LINK_KEY + id : id * LINK_KEY + other);
      sb.append(' ').append(other);
    }
    trace(sb.toString());
  }

  /**
   * Non-transitive fault: the others split in two halves that cannot talk to each other, and
   * {@code x} (random if null) still talks to both (etcd's "bridge" nemesis).
   */
  private void bridge(SimNode x) {
    long id = x != null ? x.id : 1 + rnd.nextInt(nodes.size());
    List<Long> left = new ArrayList<>();
    List<Long> right = new ArrayList<>();
    for (long other : nodes.keySet()) {
      if (other != id) {
        (rnd.nextBoolean() ? left : right).add(other);
      }
    }
    for (long a : left) {
      for (long b : right) {
        cutLinks.add(a * LINK_KEY + b);
        cutLinks.add(b * LINK_KEY + a);
      }
    }
    trace("bridge " + id + " between " + left + " and " + right);
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
    n.unsynced.clear(); // saving the snapshot syncs, which makes every earlier write durable
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
    // The OS may have flushed some of the unsynced writes, in order: keep a random prefix.
    int keep = n.unsynced.isEmpty() || rnd.nextBoolean() ? 0 : rnd.nextInt(n.unsynced.size() + 1);
    int lost = n.unsynced.size() - keep;
    for (int i = n.unsynced.size() - 1; i >= keep; i--) {
      Unsynced u = n.unsynced.get(i);
      if (u.storageBefore() != null) {
        n.storage = u.storageBefore();
      } else {
        n.storage.setHardState(u.hardStateBefore());
      }
    }
    n.unsynced.clear();
    trace(why + " " + n.id + (lost > 0 ? " (lost " + lost + " unsynced writes, hard state now "
        + n.storage.hardState() + ")" : ""));
  }

  /** What survives any crash now: the storage minus its unsynced writes. */
  private static HardState durableHardState(SimNode n) {
    return n.unsynced.isEmpty() ? n.storage.hardState() : n.unsynced.get(0).hardStateBefore();
  }

  private static long durableLastIndex(SimNode n) {
    for (Unsynced u : n.unsynced) {
      if (u.storageBefore() != null) {
        return u.storageBefore().lastIndex();
      }
    }
    return n.storage.lastIndex();
  }

  /** A deep copy, for undoing an unsynced write that touched the log. */
  private static MemoryStorage copyOf(MemoryStorage s) {
    MemoryStorage c = new MemoryStorage();
    if (!s.snapshot().isEmpty()) {
      c.applySnapshot(s.snapshot());
    }
    if (s.lastIndex() > s.snapshot().index()) {
      long from = Math.max(s.firstIndex(), s.snapshot().index() + 1);
      c.append(s.entries(from, s.lastIndex() + 1, Long.MAX_VALUE));
    }
    c.setHardState(s.hardState());
    return c;
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
    if (chaos && rnd.nextDouble() < 0.0005) {
      crash(n, "crash before persisting a Ready, of"); // the in-flight Ready is lost whole
      return;
    }
    // The contract's exception: a leader's messages may leave before the Ready is persisted
    // (its own copy counts only once advance reports it persisted). Half the Readies do so.
    List<Message> early = rnd.nextBoolean()
        ? rd.messages().stream().filter(m -> SENT_BEFORE_PERSIST.contains(m.type())).toList()
        : List.of();
    if (!early.isEmpty()) {
      checkDurableBeforeSend(n, early, true);
      early.forEach(this::send);
      if (chaos && rnd.nextDouble() < 0.002) {
        crash(n, "crash after a leader sent, before persisting, of"); // its entries may be lost here
        return;
      }
    }
    if (!rd.mustSync()) {
      // Written but not synced: remember how to undo it. Only a commit index should ever get
      // here; a log write without sync (a core bug) is modelled too, at the cost of a copy.
      boolean touchesLog = !rd.entries().isEmpty() || rd.snapshot().isPresent();
      n.unsynced.add(new Unsynced(n.storage.hardState(), touchesLog ? copyOf(n.storage) : null));
    }
    rd.snapshot().ifPresent(s -> n.storage.applySnapshot(s));
    n.storage.append(rd.entries());
    if (chaos && rd.hardState().isPresent() && rnd.nextDouble() < 0.001) {
      crash(n, "crash between persisting entries and hard state, of"); // allowed by the contract
      return;
    }
    rd.hardState().ifPresent(n.storage::setHardState);
    if (rd.mustSync()) {
      n.unsynced.clear(); // the sync makes this Ready and every earlier write durable
    }
    checker.onPersisted(n.id, n.storage, rd, n.verifiedCommit,
        n.node.raft().role == StateRole.LEADER);
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
    List<Message> rest = early.isEmpty() ? rd.messages()
        : rd.messages().stream().filter(m -> !early.contains(m)).toList();
    checkDurableBeforeSend(n, rest, false);
    for (Message m : rest) {
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

  /**
   * The Ready contract's send rule, checked at the moment of sending against what would survive
   * a crash right now (not merely what was written): a granted vote needs its (term, vote) in
   * the durable HardState, any message its term, an APP or acknowledging APP_RESP its entries.
   * This catches a vote that is not persisted, not handed out, or not synced at the first grant,
   * instead of waiting for a crash to land in the window where it matters.
   */
  /** The leader's messages that may leave before their Ready is persisted. */
  private static final java.util.Set<MessageType> SENT_BEFORE_PERSIST =
      java.util.EnumSet.of(MessageType.APP, MessageType.HEARTBEAT, MessageType.TIMEOUT_NOW);

  private void checkDurableBeforeSend(SimNode n, List<Message> messages, boolean leaderEarly) {
    HardState durable = durableHardState(n);
    long durableLast = durableLastIndex(n);
    for (Message m : messages) {
      if (m.type() == MessageType.VOTE_RESP && !m.reject()) {
        SafetyChecker.check(durable.term() == m.term() && durable.vote() == m.to(),
            "vote durability: node " + n.id + " grants its vote to " + m.to() + " in term "
                + m.term() + " but its durable hard state is " + durable);
      }
      // A granted PreVote (and a PreVote request) carries a term the sender never adopted.
      boolean futureTerm = m.type() == MessageType.PRE_VOTE
          || (m.type() == MessageType.PRE_VOTE_RESP && !m.reject());
      SafetyChecker.check(futureTerm || m.term() <= durable.term(), "term durability: node "
          + n.id + " sends " + m.type() + " in term " + m.term() + " but its durable hard state"
          + " is " + durable);
      long vouched = m.type() == MessageType.APP_RESP && !m.reject() ? m.index()
          : m.type() == MessageType.APP && !m.entries().isEmpty() && !leaderEarly
              ? m.entries().get(m.entries().size() - 1).index() : -1;
      SafetyChecker.check(vouched <= durableLast, "log durability: node " + n.id + " sends "
          + m.type() + " vouching for index " + vouched + " but its durable log ends at "
          + durableLast);
    }
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

  /** Whether messages {@code from -> to} are dropped by a partition or a one-way cut. */
  private boolean partitioned(long from, long to) {
    return !partitionGroup.getOrDefault(from, 0).equals(partitionGroup.getOrDefault(to, 0))
        || cutLinks.contains(from * LINK_KEY + to);
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
