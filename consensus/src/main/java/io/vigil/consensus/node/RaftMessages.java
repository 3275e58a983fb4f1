package io.vigil.consensus.node;

import com.google.protobuf.UnsafeByteOperations;
import io.vigil.consensus.raft.ConfState;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.EntryType;
import io.vigil.consensus.raft.Message;
import io.vigil.consensus.raft.MessageType;
import io.vigil.consensus.raft.Snapshot;
import io.vigil.proto.internal.RaftEntry;
import io.vigil.proto.internal.RaftMessage;
import io.vigil.proto.internal.RaftSnapshot;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * The wire form of the core's {@link Message}: field for field, enums by ordinal. Encoding wraps
 * an entry's data, a context or a snapshot's data without copying it: the core never modifies
 * them once made ({@link Entry}), and an append goes to each follower from the same entries.
 */
final class RaftMessages {
  private static final MessageType[] TYPES = MessageType.values();
  private static final EntryType[] ENTRY_TYPES = EntryType.values();

  private RaftMessages() {
  }

  static RaftMessage encode(Message m) {
    RaftMessage.Builder b = RaftMessage.newBuilder()
        .setType(m.type().ordinal())
        .setTo(m.to())
        .setFrom(m.from())
        .setTerm(m.term())
        .setLogTerm(m.logTerm())
        .setIndex(m.index())
        .setCommit(m.commit())
        .setReject(m.reject())
        .setRejectHint(m.rejectHint());
    for (Entry e : m.entries()) {
      b.addEntries(RaftEntry.newBuilder().setTerm(e.term()).setIndex(e.index()).setType(e.type().ordinal())
          .setData(UnsafeByteOperations.unsafeWrap(e.data())));
    }
    if (m.context() != null) {
      b.setHasContext(true).setContext(UnsafeByteOperations.unsafeWrap(m.context()));
    }
    if (m.snapshot() != null) {
      Snapshot s = m.snapshot();
      b.setSnapshot(RaftSnapshot.newBuilder().setIndex(s.index()).setTerm(s.term())
          .addAllVoters(s.confState().voters()).addAllLearners(s.confState().learners())
          .setData(UnsafeByteOperations.unsafeWrap(s.data())));
    }
    return b.build();
  }

  /**
   * The core's message, or an exception naming what is wrong: a peer's bytes are input like any
   * other, and a bad one must not reach the core.
   */
  static Message decode(RaftMessage p) {
    if (p.getType() >= TYPES.length) {
      throw new IllegalArgumentException("unknown raft message type " + p.getType());
    }
    List<Entry> entries = new ArrayList<>(p.getEntriesCount());
    for (RaftEntry e : p.getEntriesList()) {
      if (e.getType() >= ENTRY_TYPES.length) {
        throw new IllegalArgumentException("unknown raft entry type " + e.getType());
      }
      entries.add(new Entry(e.getTerm(), e.getIndex(), ENTRY_TYPES[e.getType()], e.getData().toByteArray()));
    }
    Snapshot snapshot = null;
    if (p.hasSnapshot()) {
      RaftSnapshot s = p.getSnapshot();
      snapshot = new Snapshot(s.getIndex(), s.getTerm(),
          new ConfState(new HashSet<>(s.getVotersList()), new HashSet<>(s.getLearnersList())),
          s.getData().toByteArray());
    }
    return new Message(TYPES[p.getType()], p.getTo(), p.getFrom(), p.getTerm(), p.getLogTerm(), p.getIndex(),
        entries, p.getCommit(), snapshot, p.getReject(), p.getRejectHint(),
        p.getHasContext() ? p.getContext().toByteArray() : null);
  }
}
