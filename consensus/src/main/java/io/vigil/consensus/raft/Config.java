package io.vigil.consensus.raft;

/**
 * Configuration of one Raft node, built fluently and validated once in {@link Builder#build()}.
 *
 * <pre>{@code
 * Config c = Config.builder().id(1).electionTicks(10).heartbeatTicks(1).randomSeed(seed).build();
 * }</pre>
 */
public final class Config {
  public static final int ELECTION_TICKS_DEFAULT = 10;
  public static final int HEARTBEAT_TICKS_DEFAULT = 1;
  public static final long MAX_SIZE_PER_MSG_BYTES_DEFAULT = 1L << 20;
  public static final int MAX_INFLIGHT_MSGS_DEFAULT = 256;
  public static final long MAX_INFLIGHT_BYTES_DEFAULT = 32L << 20;
  public static final long MAX_COMMITTED_SIZE_PER_READY_BYTES_DEFAULT = 64L << 20;
  public static final long MAX_UNCOMMITTED_ENTRIES_BYTES_DEFAULT = 1L << 30;

  private final long id;
  private final int electionTicks;
  private final int heartbeatTicks;
  private final long applied;
  private final long maxSizePerMsgBytes;
  private final int maxInflightMsgs;
  private final long maxInflightBytes;
  private final long maxCommittedSizePerReadyBytes;
  private final long maxUncommittedEntriesBytes;
  private final boolean checkQuorum;
  private final boolean preVote;
  private final long randomSeed;

  private Config(Builder b) {
    id = b.id;
    electionTicks = b.electionTicks;
    heartbeatTicks = b.heartbeatTicks;
    applied = b.applied;
    maxSizePerMsgBytes = b.maxSizePerMsgBytes;
    maxInflightMsgs = b.maxInflightMsgs;
    maxInflightBytes = b.maxInflightBytes;
    maxCommittedSizePerReadyBytes = b.maxCommittedSizePerReadyBytes;
    maxUncommittedEntriesBytes = b.maxUncommittedEntriesBytes;
    checkQuorum = b.checkQuorum;
    preVote = b.preVote;
    randomSeed = b.randomSeed;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** This node's id: any value but 0 (NONE; etcd's member ids use all 64 bits), unique in the cluster, never reused after removal. */
  public long id() { return id; }

  /**
   * Ticks a follower waits without hearing from a leader before campaigning; the actual timeout
   * is drawn uniformly from [electionTicks, 2 * electionTicks) on every reset. It is also the
   * CheckQuorum period and the leader-transfer deadline.
   */
  public int electionTicks() { return electionTicks; }

  /** Ticks between leader heartbeats; must be less than electionTicks. */
  public int heartbeatTicks() { return heartbeatTicks; }

  /**
   * The last index the application has applied, when restarting; entries up to it are not
   * handed out again. 0 means "from the storage's snapshot".
   */
  public long applied() { return applied; }

  /** Upper bound on the entry bytes of one APP message (at least one entry is always sent). */
  public long maxSizePerMsgBytes() { return maxSizePerMsgBytes; }

  /** Upper bound on unacknowledged APP messages per follower while replicating. */
  public int maxInflightMsgs() { return maxInflightMsgs; }

  /** Upper bound on unacknowledged entry bytes per follower while replicating. */
  public long maxInflightBytes() { return maxInflightBytes; }

  /** Upper bound on the bytes of committed entries handed out in one {@link Ready}. */
  public long maxCommittedSizePerReadyBytes() { return maxCommittedSizePerReadyBytes; }

  /**
   * Upper bound on the data bytes of the entries a leader holds uncommitted (etcd's
   * MaxUncommittedEntriesSize); a proposal that would exceed it is dropped ({@code propose}
   * returns false) so a leader that cannot commit does not buffer without bound. Counted as
   * the entries' data only; released as committed entries are applied; reset when a node
   * becomes leader. A proposal is always accepted when nothing is uncommitted, however large,
   * and the leader's empty no-op is never refused. 0 means no limit.
   */
  public long maxUncommittedEntriesBytes() { return maxUncommittedEntriesBytes; }

  /** A leader that has not heard from a quorum within an election timeout steps down. */
  public boolean checkQuorum() { return checkQuorum; }

  /** Poll before campaigning so a partitioned node cannot disrupt the cluster when it rejoins. */
  public boolean preVote() { return preVote; }

  /**
   * Seed of the election-timeout randomization; vary it per node and per restart. There is no
   * default: members that shared one (say 0) would draw the same election timeouts and split
   * votes in lockstep, so {@link Builder#build()} refuses a config that never set it.
   */
  public long randomSeed() { return randomSeed; }

  /** Fluent builder; see the getters of {@link Config} for the meaning of each value. */
  public static final class Builder {
    private long id;
    private int electionTicks = ELECTION_TICKS_DEFAULT;
    private int heartbeatTicks = HEARTBEAT_TICKS_DEFAULT;
    private long applied;
    private long maxSizePerMsgBytes = MAX_SIZE_PER_MSG_BYTES_DEFAULT;
    private int maxInflightMsgs = MAX_INFLIGHT_MSGS_DEFAULT;
    private long maxInflightBytes = MAX_INFLIGHT_BYTES_DEFAULT;
    private long maxCommittedSizePerReadyBytes = MAX_COMMITTED_SIZE_PER_READY_BYTES_DEFAULT;
    private long maxUncommittedEntriesBytes = MAX_UNCOMMITTED_ENTRIES_BYTES_DEFAULT;
    private boolean checkQuorum = true;
    private boolean preVote = true;
    private long randomSeed;
    private boolean randomSeedSet;

    private Builder() {}

    public Builder id(long v) { id = v; return this; }
    public Builder electionTicks(int v) { electionTicks = v; return this; }
    public Builder heartbeatTicks(int v) { heartbeatTicks = v; return this; }
    public Builder applied(long v) { applied = v; return this; }
    public Builder maxSizePerMsgBytes(long v) { maxSizePerMsgBytes = v; return this; }
    public Builder maxInflightMsgs(int v) { maxInflightMsgs = v; return this; }
    public Builder maxInflightBytes(long v) { maxInflightBytes = v; return this; }
    public Builder maxCommittedSizePerReadyBytes(long v) {
      maxCommittedSizePerReadyBytes = v;
      return this;
    }
    public Builder maxUncommittedEntriesBytes(long v) {
      maxUncommittedEntriesBytes = v;
      return this;
    }
    public Builder checkQuorum(boolean v) { checkQuorum = v; return this; }
    public Builder preVote(boolean v) { preVote = v; return this; }
    /** Required; e.g. a per-process random value, or a seed derived from id and restart. */
    public Builder randomSeed(long v) {
      randomSeed = v;
      randomSeedSet = true;
      return this;
    }

    /** Validates every value and returns the immutable config. */
    public Config build() {
      check(id != 0, "id must not be 0 (NONE)");
      check(heartbeatTicks > 0, "heartbeatTicks must be positive, got " + heartbeatTicks);
      check(electionTicks > heartbeatTicks, "electionTicks (" + electionTicks
          + ") must be greater than heartbeatTicks (" + heartbeatTicks + ")");
      check(applied >= 0, "applied must not be negative, got " + applied);
      check(maxSizePerMsgBytes > 0, "maxSizePerMsgBytes must be positive, got "
          + maxSizePerMsgBytes);
      check(maxInflightMsgs > 0, "maxInflightMsgs must be positive, got " + maxInflightMsgs);
      check(maxInflightBytes >= maxSizePerMsgBytes, "maxInflightBytes (" + maxInflightBytes
          + ") must be at least maxSizePerMsgBytes (" + maxSizePerMsgBytes + ")");
      check(maxCommittedSizePerReadyBytes > 0,
          "maxCommittedSizePerReadyBytes must be positive, got " + maxCommittedSizePerReadyBytes);
      check(maxUncommittedEntriesBytes >= 0, "maxUncommittedEntriesBytes must not be negative"
          + " (0 = no limit), got " + maxUncommittedEntriesBytes);
      check(randomSeedSet, "randomSeed must be set explicitly (vary it per node and restart,"
          + " e.g. from a SecureRandom): members sharing a seed draw the same election timeouts");
      return new Config(this);
    }

    private static void check(boolean ok, String message) {
      if (!ok) {
        throw new IllegalArgumentException(message);
      }
    }
  }
}
