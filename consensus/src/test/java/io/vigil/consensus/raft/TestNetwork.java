package io.vigil.consensus.raft;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A synchronous in-memory network of {@link Raft} cores: {@link #send} delivers messages and
 * everything they cause until the network is quiet. Links can be cut, nodes isolated, and message
 * types dropped. Log persistence is implicit and instant: the cores keep their unstable entries in
 * memory, and a leader counts its own copy as soon as it has stepped ({@link RaftTestUtil#persist}).
 */
final class TestNetwork {
  final TreeMap<Long, Raft> peers = new TreeMap<>();
  private final Set<String> cut = new HashSet<>();
  private final Set<MessageType> dropped = new HashSet<>();
  private Predicate<Message> filter = m -> true;

  TestNetwork(Raft... rafts) {
    for (Raft r : rafts) {
      peers.put(r.id, r);
    }
  }

  /** A cluster of {@code n} fresh nodes with ids 1..n. */
  static TestNetwork ofSize(int n, java.util.function.Consumer<Config.Builder> tweak) {
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = i + 1;
    }
    Raft[] rafts = new Raft[n];
    for (int i = 0; i < n; i++) {
      rafts[i] = RaftTestUtil.raft(i + 1, RaftTestUtil.storage(RaftTestUtil.voters(ids)), tweak);
    }
    return new TestNetwork(rafts);
  }

  Raft get(long id) {
    return peers.get(id);
  }

  void cut(long a, long b) {
    cut.add(a + "-" + b);
    cut.add(b + "-" + a);
  }

  void isolate(long id) {
    for (long other : peers.keySet()) {
      if (other != id) {
        cut(id, other);
      }
    }
  }

  void drop(MessageType type) {
    dropped.add(type);
  }

  void filter(Predicate<Message> keep) {
    filter = keep;
  }

  void recover() {
    cut.clear();
    dropped.clear();
    filter = m -> true;
  }

  /** Delivers {@code first} and then every message produced, until none is left. */
  void send(Message... first) {
    ArrayDeque<Message> queue = new ArrayDeque<>(List.of(first));
    while (!queue.isEmpty()) {
      Message m = queue.poll();
      Raft to = peers.get(m.to());
      if (to == null || cut.contains(m.from() + "-" + m.to()) || dropped.contains(m.type())
          || !filter.test(m)) {
        continue;
      }
      to.step(m);
      RaftTestUtil.persist(to);
      queue.addAll(RaftTestUtil.take(to));
    }
  }

  /** Delivers a local message to a node (e.g. HUP) and then everything that follows. */
  void local(long id, MessageType type) {
    Raft r = peers.get(id);
    r.step(Message.builder(type).from(id).build());
    RaftTestUtil.persist(r);
    flush();
  }

  void propose(long id, String data) {
    Raft r = peers.get(id);
    r.step(RaftTestUtil.prop(data.getBytes()));
    RaftTestUtil.persist(r);
    flush();
  }

  /** Delivers whatever the nodes have queued. */
  void flush() {
    ArrayDeque<Message> all = new ArrayDeque<>();
    for (Raft r : peers.values()) {
      RaftTestUtil.persist(r);
      all.addAll(RaftTestUtil.take(r));
    }
    send(all.toArray(Message[]::new));
  }

  void tickAll(int n) {
    for (int i = 0; i < n; i++) {
      for (Raft r : peers.values()) {
        r.tick();
      }
      flush();
    }
  }
}
