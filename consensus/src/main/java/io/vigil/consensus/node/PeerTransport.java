package io.vigil.consensus.node;

import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.EntryType;
import io.vigil.consensus.raft.Message;
import io.vigil.consensus.raft.MessageType;
import io.vigil.proto.internal.PeerAck;
import io.vigil.proto.internal.PeerEnvelope;
import io.vigil.proto.internal.PeerHello;
import io.vigil.proto.internal.RaftBatch;
import io.vigil.proto.internal.RaftMessage;
import io.vigil.proto.internal.RaftPeerGrpc;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The sending half of the peer transport: one long-lived client stream per peer, to the peer's
 * {@code RaftPeer.Stream} on its peer URL, opening with a {@link PeerHello}. Raft tolerates lost
 * messages, so nothing here retries or blocks: a message for a peer whose stream is down or
 * whose send buffer is full is dropped and the peer reported unreachable (the leader then probes
 * it instead of pipelining); a stream still connecting holds what it is sent ({@link PeerStream}).
 * A broken stream is opened again on the next send or tick, at most
 * once per {@link #REOPEN_NANOS}; every peer's stream is kept open, even to peers this member has
 * nothing to send to (a follower to a follower), so that each peer hears this member's hello.
 *
 * <p>The set of peers follows the membership: {@link #setPeers} (any thread) hands over a new
 * one, which the node thread takes up on its next send or tick; streams to members that left
 * are closed, and a member whose peer URL changed is dialled at the new one.
 *
 * <p>Batching: {@link #send} holds a peer's messages until the node's {@link #flush} (after each
 * group of sends of a Ready), which sends them to that peer as one envelope, in order, up to
 * {@link #BATCH_BYTES} (a larger message goes alone). A Ready then costs one gRPC message and one
 * flush per peer, whatever number of forwarded proposals, appends or their answers it holds.
 * Proposals forwarded one after another join into one PROP, which the leader appends at once.
 *
 * <p>Threads: {@link #send}, {@link #flush} and {@link #tick} run on the node thread only; gRPC's
 * callbacks only set flags.
 */
public final class PeerTransport implements RaftNode.Transport, AutoCloseable {
  /** How long a broken stream waits before it is opened again. */
  static final long REOPEN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  /** Bytes buffered on one stream before sends to that peer are dropped (etcd drops too). */
  static final int SEND_BUFFER_BYTES = 8 << 20;
  /** How often each peer is probed for the round-trip time (etcd's prober: every few seconds). */
  static final long PROBE_NANOS = TimeUnit.SECONDS.toNanos(5);
  /**
   * The most bytes of Raft messages one envelope packs; well below what a peer port takes in one
   * gRPC message (the larger of --max-request-bytes and 10 MiB, and gRPC's framing), which one
   * message alone must fit.
   */
  static final int BATCH_BYTES = 256 << 10;

  private final PeerHello hello;
  private final Function<URI, ChannelCredentials> credentials;
  private final Map<Long, Peer> peers = new TreeMap<>();
  /** The peers wanted from now on, or null when {@link #peers} already are them. */
  private volatile Map<Long, URI> wanted;
  private volatile RaftNode node;
  private volatile boolean closed;
  private volatile Runnable onRemoved = () -> { };
  private volatile Consumer<Message> snapshots;
  private volatile PeerStats stats = PeerStats.NONE;

  /**
   * @param hello who this member is, sent first on every stream
   * @param peerUrls the peer URL of every other member, by member id
   * @param credentials how to dial a peer URL (TLS for https://)
   */
  public PeerTransport(PeerHello hello, Map<Long, URI> peerUrls, Function<URI, ChannelCredentials> credentials) {
    this.hello = hello;
    this.credentials = credentials;
    peerUrls.forEach((id, url) -> peers.put(id, new Peer(id, url)));
  }

  /** From now on the other members are {@code peerUrls} (taken up on the node thread). */
  public void setPeers(Map<Long, URI> peerUrls) {
    wanted = Map.copyOf(peerUrls);
  }

  /** Node thread: brings {@link #peers} in line with the last {@link #setPeers}. */
  private void takeUpPeers() {
    Map<Long, URI> w = wanted;
    if (w == null || closed) {
      return;
    }
    wanted = null;
    peers.entrySet().removeIf(e -> {
      boolean gone = !e.getValue().url.equals(w.get(e.getKey()));
      if (gone) {
        e.getValue().close();
      }
      return gone;
    });
    w.forEach((id, url) -> peers.computeIfAbsent(id, i -> new Peer(i, url)));
  }

  /** Told (on a gRPC thread) when a peer refuses this member because it was removed from the cluster. */
  public void onRemoved(Runnable removed) {
    this.onRemoved = removed;
  }

  /**
   * Who sends snapshots (the state machine's image does not travel on the Raft stream); without
   * one, a snapshot request fails at once.
   */
  public void snapshotSender(Consumer<Message> sender) {
    this.snapshots = sender;
  }

  @Override
  public boolean sendSnapshot(Message snap) {
    Consumer<Message> s = snapshots;
    if (s == null) {
      return false;
    }
    s.accept(snap);
    return true;
  }

  /** Who is told of the traffic to each peer (nothing by default). */
  public void stats(PeerStats stats) {
    this.stats = stats;
  }

  /** The node to report unreachable peers to; set once it has started. */
  public void attach(RaftNode node) {
    this.node = node;
  }

  @Override
  public void send(Message m) {
    takeUpPeers();
    Peer p = peers.get(m.to());
    if (p != null) {
      p.hold(m);
    }
  }

  @Override
  public void flush() {
    for (Peer p : peers.values()) {
      p.flush();
    }
  }

  @Override
  public void tick() {
    takeUpPeers();
    long now = System.nanoTime();
    for (Peer p : peers.values()) {
      if (p.connect()) {
        p.probe(now);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Peer p : peers.values()) {
      p.close();
    }
  }

  private final class Peer {
    private final long id;
    private final URI url;
    private final String target;
    private ManagedChannel channel;
    private PeerStream stream;
    private long reopenAfterNanos;
    private long nextProbeNanos = System.nanoTime();
    /** A probe is out; the next is sent once it is answered (or failed). */
    private volatile boolean probing;
    /** Messages {@link #send} holds for this peer until the next flush, and their size. */
    private final List<RaftMessage> held = new ArrayList<>();
    private int heldBytes;
    /**
     * The data proposals (forwarded PROP) held last, not encoded yet: the next one from the same
     * member and term joins them, up to {@link #BATCH_BYTES} of entries, so the leader appends them as one and
     * replicates them with one append per follower. Null when the last message held is no PROP.
     */
    private Message proposals;
    private List<Entry> proposed;
    private long proposedBytes;

    Peer(long id, URI url) {
      this.id = id;
      this.url = url;
      this.target = url.getHost() + ":" + url.getPort();
    }

    void hold(Message m) {
      boolean joinable = m.type() == MessageType.PROP && onlyData(m);
      if (joinable && proposals != null && proposals.from() == m.from() && proposals.term() == m.term()
          && proposedBytes + m.entriesSizeBytes() <= BATCH_BYTES) {
        proposed.addAll(m.entries());
        proposedBytes += m.entriesSizeBytes();
        return;
      }
      holdProposals();
      if (joinable) {
        proposals = m;
        proposed = new ArrayList<>(m.entries());
        proposedBytes = m.entriesSizeBytes();
        return;
      }
      hold(RaftMessages.encode(m));
    }

    /**
     * Whether a PROP carries data entries only. The leader takes or refuses a proposal whole, and
     * refuses one whose conf change it cannot take now (another pending, a learner behind): a conf
     * change travels alone so that it never takes data proposals down with it.
     */
    private static boolean onlyData(Message m) {
      for (Entry e : m.entries()) {
        if (e.type() != EntryType.NORMAL) {
          return false;
        }
      }
      return true;
    }

    /** Holds the proposals joined so far as one PROP, after the messages held before them. */
    private void holdProposals() {
      if (proposals == null) {
        return;
      }
      Message joined = proposed.size() == proposals.entries().size() ? proposals
          : proposals.toBuilder().entries(proposed).build();
      proposals = null;
      proposed = null;
      hold(RaftMessages.encode(joined));
    }

    private void hold(RaftMessage m) {
      int size = m.getSerializedSize();
      if (!held.isEmpty() && heldBytes + size > BATCH_BYTES) {
        sendHeld();
      }
      held.add(m);
      heldBytes += size;
    }

    void flush() {
      holdProposals();
      sendHeld();
    }

    /** Sends what is held as one envelope; drops it, and reports the peer unreachable, when the stream cannot take it. */
    private void sendHeld() {
      if (held.isEmpty()) {
        return;
      }
      int count = held.size();
      PeerEnvelope.Builder envelope = PeerEnvelope.newBuilder();
      if (count == 1) {
        envelope.setMessage(held.get(0));
      } else {
        envelope.setBatch(RaftBatch.newBuilder().addAllMessages(held));
      }
      held.clear();
      heldBytes = 0;
      PeerEnvelope e = envelope.build();
      if (connect() && stream.trySend(e)) {
        stats.sent(id, e.getSerializedSize());
      } else {
        unreachable(count);
      }
    }

    /** Times a {@code Probe} call to this peer, at most one at a time and one per {@link #PROBE_NANOS}. */
    void probe(long now) {
      if (probing || now - nextProbeNanos < 0) {
        return;
      }
      probing = true;
      nextProbeNanos = now + PROBE_NANOS;
      long start = System.nanoTime();
      ClientCalls.asyncUnaryCall(
          channel.newCall(RaftPeerGrpc.getProbeMethod(), CallOptions.DEFAULT.withDeadlineAfter(PROBE_NANOS, TimeUnit.NANOSECONDS)),
          PeerAck.getDefaultInstance(), new StreamObserver<PeerAck>() {
            @Override
            public void onNext(PeerAck value) {
              stats.roundTrip(id, System.nanoTime() - start);
            }

            @Override
            public void onError(Throwable t) {
              probing = false;
            }

            @Override
            public void onCompleted() {
              probing = false;
            }
          });
    }

    /** Whether a stream is open, opening one if it is down and may be opened again. */
    boolean connect() {
      if (stream != null && stream.broken()) {
        int lost = stream.takeLostWhileConnecting();
        if (lost > 0) {
          unreachable(lost);
        }
      }
      return (stream != null && !stream.broken()) || open();
    }

    private boolean open() {
      long now = System.nanoTime();
      if (stream != null) {
        if (now - reopenAfterNanos < 0) {
          return false;
        }
        stream.cancel("reopening");
      }
      reopenAfterNanos = now + REOPEN_NANOS;
      if (channel == null) {
        channel = Grpc.newChannelBuilder(target, credentials.apply(url)).build();
      } else if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
        // gRPC backs off up to minutes between connection attempts; a peer that was down (not
        // started yet, restarting) must be reached again within one reopen interval
        channel.resetConnectBackoff();
      }
      stream = PeerStream.open(channel, hello, () -> onRemoved.run());
      return true;
    }

    private void unreachable(int dropped) {
      for (int i = 0; i < dropped; i++) {
        stats.sendFailed(id);
      }
      RaftNode n = node;
      if (n != null) {
        n.reportUnreachable(id);
      }
    }

    void close() {
      if (stream != null) {
        stream.cancel("member stopping");
      }
      if (channel != null) {
        channel.shutdownNow();
      }
    }
  }
}
