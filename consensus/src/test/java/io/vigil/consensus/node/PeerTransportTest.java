package io.vigil.consensus.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.vigil.consensus.raft.ConfChange;
import io.vigil.consensus.raft.ConfState;
import io.vigil.consensus.raft.Config;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.EntryType;
import io.vigil.consensus.raft.Message;
import io.vigil.consensus.raft.MessageType;
import io.vigil.proto.internal.PeerHello;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes in this JVM over the real peer transport (gRPC streams on loopback): proposals
 * made on every member at once, each envelope packing what a Ready had for its peer, reach every
 * member's log in one order, none lost unless the leader changed or a send was dropped (then
 * proposed again, as a client would), also when refused membership changes travel among them, and no envelope is larger than {@link
 * PeerTransport#BATCH_BYTES} allows, against a peer port that takes little more.
 */
class PeerTransportTest {
  private static final long CLUSTER = 7;
  private static final int ENTRY_BYTES = 60 << 10;
  /** Room for one batch and its framing, not for two: an unsplit batch would break the stream. */
  private static final int MAX_INBOUND = PeerTransport.BATCH_BYTES + (64 << 10);

  @TempDir
  Path dir;

  private final List<AutoCloseable> closing = new ArrayList<>();
  private final List<Throwable> fatal = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  /** Records what a member's transport sent: envelopes, and the largest one. */
  private static final class Sent implements PeerStats {
    final AtomicInteger envelopes = new AtomicInteger();
    final AtomicLong largest = new AtomicLong();
    final AtomicInteger failed = new AtomicInteger();

    @Override
    public void sent(long to, int bytes) {
      envelopes.incrementAndGet();
      largest.accumulateAndGet(bytes, Math::max);
    }

    @Override
    public void sendFailed(long to) {
      failed.incrementAndGet();
    }
  }

  private record Member(long id, RaftNode node, List<Long> applied, Sent sent) {
  }

  @Test
  void proposalsOnEveryMemberReachEveryLogInOneOrderInBoundedEnvelopes() throws Exception {
    long[] ids = {1, 2, 3};
    Map<Long, Server> servers = new HashMap<>();
    Map<Long, RaftPeerService> services = new HashMap<>();
    for (long id : ids) {
      RaftPeerService service = new RaftPeerService(CLUSTER, id, other -> false);
      servers.put(id, serve(service));
      services.put(id, service);
    }
    List<Member> members = new ArrayList<>();
    for (long id : ids) {
      members.add(start(id, ids, servers, services.get(id)));
    }
    await().forever().until(() -> agreeOnLeader(members));

    // every member proposes at once: followers forward their proposals, the leader appends them
    int perMember = 40;
    long disturbancesBefore = disturbances(members);
    long disturbancesSeen = disturbancesBefore;
    Map<Long, Member> proposerOf = new HashMap<>();
    List<Thread> proposers = new ArrayList<>();
    for (Member m : members) {
      List<Long> mine = new ArrayList<>();
      for (int k = 0; k < perMember; k++) {
        mine.add(m.id() * 1_000_000 + k);
        proposerOf.put(m.id() * 1_000_000 + k, m);
      }
      Thread t = new Thread(() -> {
        for (int k = 0; k < mine.size(); k++) {
          propose(m, mine.get(k));
          if (k % 10 == 5) {
            // a change the leader refuses (m is a voter already), amid the data: it must not
            // take the data proposals forwarded with it down
            m.node().proposeConfChange(new ConfChange(ConfChange.Type.ADD_VOTER, m.id()), new CompletableFuture<>());
          }
        }
      });
      proposers.add(t);
      t.start();
    }
    for (Thread t : proposers) {
      t.join();
    }
    // Raft may lose a forwarded proposal when the leader changes or a send is dropped; a client
    // then proposes again, as this does, but only then: after each new leader change or dropped
    // send, once every member names the same leader, it proposes again what is still missing (a
    // proposal still on its way may then be applied twice). Without one nothing may be lost, so
    // the test waits for every proposal however slowly it comes: how fast is not its question.
    // A proposal lost without a disturbance leaves it waiting.
    int reproposed = 0;
    while (true) {
      List<Long> missing = new ArrayList<>(proposerOf.keySet());
      long seen = disturbancesSeen;
      await().forever().until(() -> members.stream().allMatch(m -> m.applied().containsAll(missing))
          || disturbances(members) != seen);
      if (members.stream().allMatch(m -> m.applied().containsAll(missing))) {
        break;
      }
      disturbancesSeen = disturbances(members);
      await().forever().until(() -> agreeOnLeader(members));
      missing.removeAll(members.get(0).applied());
      missing.forEach(id -> propose(proposerOf.get(id), id));
      reproposed += missing.size();
    }
    assertEquals(List.of(), fatal);
    if (disturbances(members) == disturbancesBefore) {
      assertEquals(0, reproposed, "no proposal lost without a leader change or a dropped send: " + describe(members));
    }
    await().forever()
        .until(() -> members.stream().allMatch(m -> m.applied().size() == members.get(0).applied().size()));
    List<Long> order = members.get(0).applied();
    for (Member m : members) {
      assertEquals(order, m.applied(), "member " + m.id() + " applied the same entries in the same order");
      if (reproposed == 0) {
        assertEquals(order.size(), order.stream().distinct().count(), "every proposal once");
      }
      assertTrue(m.sent().largest.get() <= PeerTransport.BATCH_BYTES + 1024,
          "member " + m.id() + " sent an envelope of " + m.sent().largest.get() + " bytes");
    }
  }

  /**
   * Regression (CI): a member that has just started learns the leader from the leader's append
   * before its own stream to the leader is connected, and forwards the proposals that waited for
   * a leader at once. The transport dropped everything sent before the new stream was ready, so
   * those proposals were lost and their clients timed out. Sent on a stream still connecting, a
   * message now waits for the connection (up to the send buffer), as etcd's pipeline carries
   * messages while its stream is not up.
   */
  @Test
  void aMessageSentWhileTheStreamConnectsIsDelivered() throws Exception {
    RaftPeerService service = new RaftPeerService(CLUSTER, 2, other -> false);
    Sent received = new Sent();
    service.stats(new PeerStats() {
      @Override
      public void received(long from, int bytes) {
        received.sent(from, bytes);
      }
    });
    Server server = serve(service);
    Sent sent = new Sent();
    sendOneProposal(server.getPort(), sent);
    assertEquals(0, sent.failed.get(), "dropped a message sent while the stream connects");
    await().forever().until(() -> received.envelopes.get() == 1);
  }

  /**
   * A message taken while the stream connected is lost with a call that never connects (nobody
   * listens at the peer's port): it is counted as a dropped send, once, when the transport next
   * finds the stream broken, and the peer reported unreachable as for any other drop.
   */
  @Test
  void aMessageLostWithAStreamThatNeverConnectedIsReportedOnce() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    Sent sent = new Sent();
    PeerTransport transport = sendOneProposal(closedPort, sent);
    // this thread stands for the node thread: ticks until the transport has seen the call fail
    await().forever().until(() -> {
      transport.tick();
      return sent.failed.get() > 0;
    });
    for (int i = 0; i < 10; i++) {
      transport.tick();
    }
    assertEquals(1, sent.failed.get(), "the one message lost, told once");
  }

  /** A peer port on loopback serving {@code service}, taking up to {@link #MAX_INBOUND} a message; stopped after the test. */
  private Server serve(RaftPeerService service) throws IOException {
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
        .maxInboundMessageSize(MAX_INBOUND).directExecutor().addService(service).build().start();
    closing.add(() -> server.shutdownNow().awaitTermination());
    return server;
  }

  /**
   * A transport of member 1 to member 2 at {@code port}, telling {@code sent}, that has just sent
   * one proposal on the stream it opened for it (this thread stands for the node thread).
   */
  private PeerTransport sendOneProposal(int port, Sent sent) {
    PeerTransport transport = new PeerTransport(PeerHello.newBuilder().setClusterId(CLUSTER).setMemberId(1).build(),
        Map.of(2L, URI.create("http://127.0.0.1:" + port)), url -> InsecureChannelCredentials.create());
    closing.add(transport);
    transport.stats(sent);
    transport.send(Message.builder(MessageType.PROP).from(1).to(2).term(1)
        .entries(List.of(Entry.normal(0, 0, new byte[] {1}))).build());
    transport.flush();
    return transport;
  }

  private static void propose(Member m, long id) {
    byte[] data = new byte[ENTRY_BYTES];
    ByteBuffer.wrap(data).putLong(id);
    m.node().propose(data, new CompletableFuture<>());
  }

  /** Whether every member names the same leader. */
  private static boolean agreeOnLeader(List<Member> members) {
    long leader = members.get(0).node().leaderId();
    return leader != 0 && members.stream().allMatch(m -> m.node().leaderId() == leader);
  }

  private static long leaderChanges(List<Member> members) {
    return members.stream().mapToLong(m -> m.node().leaderChanges()).sum();
  }

  /** Leader changes and dropped sends so far: each may lose a proposal. */
  private static long disturbances(List<Member> members) {
    return leaderChanges(members) + members.stream().mapToLong(m -> m.sent().failed.get()).sum();
  }

  private static String describe(List<Member> members) {
    StringBuilder sb = new StringBuilder();
    for (Member m : members) {
      sb.append(" m").append(m.id()).append(": applied ").append(m.applied().size()).append(", leader changes ")
          .append(m.node().leaderChanges()).append(", dropped sends ").append(m.sent().failed.get())
          .append(", envelopes ").append(m.sent().envelopes.get()).append(';');
    }
    return sb.toString();
  }

  private Member start(long id, long[] ids, Map<Long, Server> servers, RaftPeerService service) throws IOException {
    Map<Long, URI> peers = new HashMap<>();
    for (long other : ids) {
      if (other != id) {
        peers.put(other, URI.create("http://127.0.0.1:" + servers.get(other).getPort()));
      }
    }
    PeerTransport transport = new PeerTransport(PeerHello.newBuilder().setClusterId(CLUSTER).setMemberId(id).build(),
        peers, url -> InsecureChannelCredentials.create());
    Sent sent = new Sent();
    transport.stats(sent);
    ConfState conf = ConfState.ofVoters(1L, 2L, 3L);
    RaftStorage storage = RaftStorage.open(dir.resolve("m" + id), conf, 0);
    List<Long> applied = new CopyOnWriteArrayList<>();
    Config config = Config.builder().id(id).randomSeed(id).maxSizePerMsgBytes(3 * ENTRY_BYTES).build();
    RaftNode node = RaftNode.start(config, storage, conf, transport, a -> {
      for (Entry e : a.committed()) {
        if (e.type() == EntryType.NORMAL && e.data().length > 0) {
          applied.add(ByteBuffer.wrap(e.data()).getLong());
        }
      }
    }, TimeUnit.MILLISECONDS.toNanos(50), fatal::add);
    transport.attach(node);
    service.attach(node);
    closing.add(storage);
    closing.add(transport);
    closing.add(node);
    return new Member(id, node, applied, sent);
  }
}
