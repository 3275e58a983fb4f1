package io.vigil.consensus.node;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.vigil.proto.internal.PeerAck;
import io.vigil.proto.internal.PeerEnvelope;
import io.vigil.proto.internal.PeerHello;
import io.vigil.proto.internal.RaftPeerGrpc;

/**
 * One client stream to a peer's {@code RaftPeer.Stream}, opened with this member's hello, and
 * what gRPC's callbacks tell of it. A peer gets a new one each time its stream is opened again,
 * so the callbacks of a stream given up never mark its successor.
 *
 * <p>Until it is ready for the first time the stream is still connecting: gRPC holds what it is
 * sent and writes it once the connection is up, or fails it with the stream. It takes messages
 * then up to {@link PeerTransport#SEND_BUFFER_BYTES}, as etcd's pipeline carries messages while
 * its stream is not up (a member that has just started hears the leader before its own stream to
 * the leader is connected, and forwards at once the proposals that waited for a leader). Once
 * connected it takes messages while gRPC's send buffer holds less than that ({@code isReady}).
 * What it took while connecting and then lost with a call that never connected is told by
 * {@link #takeLostWhileConnecting}, so the peer is reported unreachable for it after all.
 *
 * <p>Threads: {@link #trySend}, {@link #takeLostWhileConnecting} and {@link #cancel} on the node
 * thread; gRPC's callbacks only set flags.
 */
final class PeerStream implements ClientResponseObserver<PeerEnvelope, PeerAck> {
  private final Runnable onRemoved;
  private ClientCallStreamObserver<PeerEnvelope> requests;
  private volatile boolean broken;
  private volatile boolean connected;
  /** Bytes sent before the stream was first ready: what gRPC holds until it connects. */
  private long connectingBytes;
  /** Raft messages sent before the stream was first ready, not yet told lost. */
  private int connectingMessages;

  private PeerStream(Runnable onRemoved) {
    this.onRemoved = onRemoved;
  }

  /** Opens a stream on {@code channel} and sends {@code hello} first; {@code onRemoved} runs if the peer refuses this member as removed. */
  static PeerStream open(ManagedChannel channel, PeerHello hello, Runnable onRemoved) {
    PeerStream s = new PeerStream(onRemoved);
    ClientCalls.asyncClientStreamingCall(channel.newCall(RaftPeerGrpc.getStreamMethod(),
        CallOptions.DEFAULT.withOnReadyThreshold(PeerTransport.SEND_BUFFER_BYTES)), s);
    s.requests.onNext(PeerEnvelope.newBuilder().setHello(hello).build());
    return s;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<PeerEnvelope> requests) {
    this.requests = requests;
    requests.setOnReadyHandler(() -> connected = true);
  }

  /** Whether the stream ended (the peer went away, refused it, or it was cancelled). */
  boolean broken() {
    return broken;
  }

  /** Sends {@code envelope} if the stream can take it now; false when it is broken or its buffer full. */
  boolean trySend(PeerEnvelope envelope) {
    if (broken) {
      return false;
    }
    if (requests.isReady()) {
      // gRPC tells onReady later, on another thread; ready now means connected now
      connected = true;
    } else {
      int size = envelope.getSerializedSize();
      if (connected || connectingBytes + size > PeerTransport.SEND_BUFFER_BYTES) {
        return false;
      }
      connectingBytes += size;
      connectingMessages += envelope.hasBatch() ? envelope.getBatch().getMessagesCount() : 1;
    }
    requests.onNext(envelope);
    return true;
  }

  /**
   * The Raft messages this stream took while connecting, once it broke without ever connecting:
   * gRPC failed them with the call, so they never left. Told once (then 0); 0 for a stream that
   * connected or is still up.
   */
  int takeLostWhileConnecting() {
    if (!broken || connected) {
      return 0;
    }
    int lost = connectingMessages;
    connectingMessages = 0;
    return lost;
  }

  void cancel(String why) {
    broken = true;
    requests.cancel(why, null);
  }

  @Override
  public void onNext(PeerAck value) {
  }

  @Override
  public void onError(Throwable t) {
    broken = true;
    if (Status.fromThrowable(t).getCode() == RaftPeerService.REMOVED) {
      onRemoved.run();
    }
  }

  @Override
  public void onCompleted() {
    broken = true;
  }
}
