package io.vigil.consensus.raft;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** Builders shared by the message-by-message spec tests. */
final class RaftTestUtil {
  static final int ELECTION = 10;
  static final int HEARTBEAT = 1;

  private RaftTestUtil() {}

  static ConfState voters(long... ids) {
    return new ConfState(Arrays.stream(ids).boxed().collect(Collectors.toSet()), Set.of());
  }

  static ConfState conf(long[] voters, long[] learners) {
    return new ConfState(Arrays.stream(voters).boxed().collect(Collectors.toCollection(TreeSet::new)),
        Arrays.stream(learners).boxed().collect(Collectors.toCollection(TreeSet::new)));
  }

  /** Storage with an empty log at index 0 (or with {@code terms[i]} at index i + 1). */
  static MemoryStorage storage(ConfState cs, long... terms) {
    MemoryStorage s = MemoryStorage.withConfiguration(cs);
    s.append(entriesWithTerms(1, terms));
    return s;
  }

  static List<Entry> entriesWithTerms(long firstIndex, long... terms) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < terms.length; i++) {
      out.add(Entry.normal(terms[i], firstIndex + i, ("e" + (firstIndex + i)).getBytes()));
    }
    return out;
  }

  static Config.Builder config(long id) {
    return Config.builder().id(id).electionTicks(ELECTION).heartbeatTicks(HEARTBEAT)
        .randomSeed(id).checkQuorum(false).preVote(false);
  }

  static Raft raft(long id, ConfState cs, long... terms) {
    return new Raft(config(id).build(), storage(cs, terms));
  }

  static Raft raft(long id, Storage storage, Consumer<Config.Builder> tweak) {
    Config.Builder b = config(id);
    tweak.accept(b);
    return new Raft(b.build(), storage);
  }

  /** Drains and returns the messages the node wants sent. */
  static List<Message> take(Raft r) {
    List<Message> out = new ArrayList<>(r.outbox);
    r.outbox.clear();
    return out;
  }

  static List<Message> take(Raft r, MessageType type) {
    return take(r).stream().filter(m -> m.type() == type).toList();
  }

  static Message.Builder msg(MessageType type, long from, long to, long term) {
    return Message.builder(type).from(from).to(to).term(term);
  }

  static Message prop(byte[] data) {
    return Message.builder(MessageType.PROP).entries(List.of(Entry.normal(0, 0, data))).build();
  }

  static void tick(Raft r, int n) {
    for (int i = 0; i < n; i++) {
      r.tick();
    }
  }

  /** Ticks until the node campaigns (at most 2 * election timeout). */
  static void electionTimeout(Raft r) {
    tick(r, 2 * ELECTION);
  }

  /** Makes {@code r} a leader at the next term, as if every peer voted for it; its no-op is persisted. */
  static void becomeLeader(Raft r) {
    r.becomeCandidate();
    r.becomeLeader();
    persist(r);
    take(r);
  }

  /**
   * Everything in {@code r}'s log is now durable, as when a Ready is advanced: a leader's own copy
   * counts toward the quorum from here on.
   */
  static void persist(Raft r) {
    long last = r.log.lastIndex();
    r.persisted(last, r.log.term(last));
  }

  static long[] terms(List<Entry> ents) {
    return ents.stream().mapToLong(Entry::term).toArray();
  }

  static List<Entry> logEntries(Raft r) {
    return r.log.slice(r.log.firstIndex(), r.log.lastIndex() + 1, Long.MAX_VALUE);
  }
}
