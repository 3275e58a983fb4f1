package io.vigil.consensus.node;

/**
 * What the peer transport tells about its traffic, by peer member id, for etcd's
 * {@code etcd_network_peer_*} metrics. Called on the node thread (sending) and on gRPC threads
 * (receiving, probe answers): implementations must be thread-safe and must not block.
 */
public interface PeerStats {
  /** An envelope of Raft messages, {@code bytes} long, went onto the stream to {@code to}. */
  void sent(long to, int bytes);

  /** A message for {@code to} was dropped: its stream is down or its send buffer full. */
  void sendFailed(long to);

  /** An envelope of Raft messages, {@code bytes} long, came in from {@code from}. */
  void received(long from, int bytes);

  /** A stream from {@code from} was refused or broke off with an error. */
  void receiveFailed(long from);

  /** A probe of {@code to} came back after {@code nanos}. */
  void roundTrip(long to, long nanos);

  PeerStats NONE = new PeerStats() {
    @Override
    public void sent(long to, int bytes) {
    }

    @Override
    public void sendFailed(long to) {
    }

    @Override
    public void received(long from, int bytes) {
    }

    @Override
    public void receiveFailed(long from) {
    }

    @Override
    public void roundTrip(long to, long nanos) {
    }
  };
}
