package io.vigil.consensus.node;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.vigil.consensus.raft.Message;
import io.vigil.proto.internal.PeerAck;
import io.vigil.proto.internal.PeerEnvelope;
import io.vigil.proto.internal.PeerHello;
import io.vigil.proto.internal.RaftMessage;
import io.vigil.proto.internal.RaftPeerGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * The receiving half of the peer transport: each peer's stream opens with a {@link PeerHello}
 * naming its cluster, then carries Raft messages (one or a batch an envelope), which are stepped
 * into the node in order, a batch as one task of the node thread. A stream from
 * another cluster, or a message that does not decode or is not addressed to this member, ends
 * the stream with an error; the member keeps serving.
 */
public final class RaftPeerService extends RaftPeerGrpc.RaftPeerImplBase {
  private final long clusterId;
  private final long memberId;
  private final LongPredicate isRemoved;
  private volatile RaftNode node;
  private volatile PeerStats stats = PeerStats.NONE;

  /**
   * @param isRemoved whether a member id was removed from the cluster: its streams are refused
   *                  with {@link #REMOVED}, which tells it to stop (etcd's peers answer it 410 Gone)
   */
  public RaftPeerService(long clusterId, long memberId, LongPredicate isRemoved) {
    this.clusterId = clusterId;
    this.memberId = memberId;
    this.isRemoved = isRemoved;
  }

  /** The status a removed member's stream is refused with: it has been removed and must stop. */
  public static final Status.Code REMOVED = Status.Code.PERMISSION_DENIED;

  /** Who is told of the traffic from each peer (nothing by default). */
  public void stats(PeerStats stats) {
    this.stats = stats;
  }

  @Override
  public void probe(PeerAck request, StreamObserver<PeerAck> out) {
    out.onNext(PeerAck.getDefaultInstance());
    out.onCompleted();
  }

  /** The node to step messages into; until set, messages are dropped. */
  public void attach(RaftNode node) {
    this.node = node;
  }

  @Override
  public StreamObserver<PeerEnvelope> stream(StreamObserver<PeerAck> out) {
    return new StreamObserver<>() {
      private PeerHello from;
      private boolean refused;

      @Override
      public void onNext(PeerEnvelope envelope) {
        if (refused) {
          return;
        }
        if (envelope.hasHello()) {
          PeerHello h = envelope.getHello();
          if (h.getClusterId() != clusterId) {
            refuse(Status.FAILED_PRECONDITION.withDescription(String.format(
                "member %x is of cluster %x, this member (%x) of cluster %x", h.getMemberId(), h.getClusterId(),
                memberId, clusterId)));
            return;
          }
          if (isRemoved.test(h.getMemberId())) {
            refuse(Status.fromCode(REMOVED).withDescription(String.format(
                "member %x has been removed from cluster %x", h.getMemberId(), clusterId)));
            return;
          }
          from = h;
          return;
        }
        if (from == null) {
          refuse(Status.FAILED_PRECONDITION.withDescription("a peer stream must open with a hello"));
          return;
        }
        List<RaftMessage> encoded = envelope.hasBatch() ? envelope.getBatch().getMessagesList()
            : List.of(envelope.getMessage());
        if (encoded.isEmpty()) {
          refuse(Status.INVALID_ARGUMENT.withDescription("an empty batch of Raft messages"));
          return;
        }
        List<Message> messages = new ArrayList<>(encoded.size());
        for (RaftMessage r : encoded) {
          Message m;
          try {
            m = RaftMessages.decode(r);
          } catch (IllegalArgumentException bad) {
            refuse(Status.INVALID_ARGUMENT.withDescription(bad.getMessage()));
            return;
          }
          if (m.to() != memberId || m.from() != from.getMemberId()) {
            refuse(Status.INVALID_ARGUMENT.withDescription(String.format(
                "message from %x to %x on the stream of member %x to %x", m.from(), m.to(), from.getMemberId(), memberId)));
            return;
          }
          messages.add(m);
        }
        stats.received(from.getMemberId(), envelope.getSerializedSize());
        RaftNode n = node;
        if (n != null) {
          n.step(messages);
        }
      }

      private void refuse(Status status) {
        if (from != null) {
          stats.receiveFailed(from.getMemberId());
        }
        refused = true;
        out.onError(status.asRuntimeException());
      }

      @Override
      public void onError(Throwable t) {
        // the peer's side ended the stream with an error (a member that stops cancels its streams)
        if (from != null && !refused) {
          stats.receiveFailed(from.getMemberId());
        }
      }

      @Override
      public void onCompleted() {
        if (refused) {
          return;
        }
        out.onNext(PeerAck.getDefaultInstance());
        out.onCompleted();
      }
    };
  }
}
