package io.vigil.consensus.raft;

import java.util.List;
import java.util.Objects;

/**
 * A Raft message. Which fields are meaningful depends on {@link #type()}:
 *
 * <ul>
 *   <li>APP: {@code index}/{@code logTerm} of the entry preceding {@code entries}, {@code commit}.
 *   <li>APP_RESP: {@code index} is the follower's last matching index; on {@code reject},
 *       {@code index} echoes the rejected APP's index and ({@code rejectHint}, {@code logTerm})
 *       name the follower's last entry that may match (fast backtracking).
 *   <li>VOTE / PRE_VOTE: {@code index}/{@code logTerm} of the candidate's last entry;
 *       {@code context} is {@link #TRANSFER_CONTEXT} for a leadership transfer.
 *   <li>HEARTBEAT(_RESP): {@code commit}; {@code index} carries the ReadIndex round.
 *   <li>READ_INDEX(_RESP): {@code context} is the caller's request id; the response's
 *       {@code index} is the read index.
 *   <li>SNAP: {@code snapshot}.
 * </ul>
 *
 * <p>{@code term} is 0 for local messages and for forwarded PROP/READ_INDEX.
 */
public record Message(
    MessageType type,
    long to,
    long from,
    long term,
    long logTerm,
    long index,
    List<Entry> entries,
    long commit,
    Snapshot snapshot,
    boolean reject,
    long rejectHint,
    byte[] context) {

  /** Context of a VOTE sent on a leadership transfer; it bypasses the receivers' leader lease. */
  public static final byte[] TRANSFER_CONTEXT = {'t', 'r', 'a', 'n', 's', 'f', 'e', 'r'};

  public Message {
    Objects.requireNonNull(type, "type");
    entries = entries == null ? List.of() : List.copyOf(entries);
  }

  public static Builder builder(MessageType type) {
    return new Builder(type);
  }

  public Builder toBuilder() {
    return new Builder(type).to(to).from(from).term(term).logTerm(logTerm).index(index)
        .entries(entries).commit(commit).snapshot(snapshot).reject(reject)
        .rejectHint(rejectHint).context(context);
  }

  /** Bytes of entries carried, as counted against {@code maxInflightBytes}. */
  public long entriesSizeBytes() {
    long n = 0;
    for (Entry e : entries) {
      n += e.sizeBytes();
    }
    return n;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder().append(type).append(' ').append(from).append("->")
        .append(to).append(" t").append(term);
    if (logTerm != 0 || index != 0) {
      sb.append(" i").append(logTerm).append('/').append(index);
    }
    if (!entries.isEmpty()) {
      sb.append(" ents[").append(entries.get(0).index()).append("..")
          .append(entries.get(entries.size() - 1).index()).append(']');
    }
    if (commit != 0) {
      sb.append(" c").append(commit);
    }
    if (reject) {
      sb.append(" REJECT hint ").append(logTerm).append('/').append(rejectHint);
    }
    if (snapshot != null) {
      sb.append(' ').append(snapshot);
    }
    return sb.toString();
  }

  /** Fluent builder; unset numeric fields are 0. */
  public static final class Builder {
    private final MessageType type;
    private long to;
    private long from;
    private long term;
    private long logTerm;
    private long index;
    private List<Entry> entries = List.of();
    private long commit;
    private Snapshot snapshot;
    private boolean reject;
    private long rejectHint;
    private byte[] context;

    private Builder(MessageType type) {
      this.type = type;
    }

    public Builder to(long v) { to = v; return this; }
    public Builder from(long v) { from = v; return this; }
    public Builder term(long v) { term = v; return this; }
    public Builder logTerm(long v) { logTerm = v; return this; }
    public Builder index(long v) { index = v; return this; }
    public Builder entries(List<Entry> v) { entries = v; return this; }
    public Builder commit(long v) { commit = v; return this; }
    public Builder snapshot(Snapshot v) { snapshot = v; return this; }
    public Builder reject(boolean v) { reject = v; return this; }
    public Builder rejectHint(long v) { rejectHint = v; return this; }
    public Builder context(byte[] v) { context = v; return this; }

    MessageType type() {
      return type;
    }

    long term() {
      return term;
    }

    public Message build() {
      return new Message(type, to, from, term, logTerm, index, entries, commit, snapshot,
          reject, rejectHint, context);
    }
  }
}
