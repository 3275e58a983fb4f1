package io.vigil.consensus.node;

/**
 * What the peer transport tells about its traffic, by peer member id, for etcd's
 * {@code etcd_network_peer_*} metrics. Called on the node thread (sending) and on gRPC threads
 * (receiving, probe answers): implementations must be thread-safe and must not block. Each
 * method does nothing unless overridden.
 */
public interface PeerStats {
  /** An envelope of Raft messages, {@code bytes} long, went onto the stream to {@code to}. */
  default void sent(long to, int bytes) {
  }

  /** A message for {@code to} was dropped: its stream is down or its send buffer full. */
  default void sendFailed(long to) {
  }

  /** An envelope of Raft messages, {@code bytes} long, came in from {@code from}. */
  default void received(long from, int bytes) {
  }

  /** A stream from {@code from} was refused or broke off with an error. */
  default void receiveFailed(long from) {
  }

  /** A probe of {@code to} came back after {@code nanos}. */
  default void roundTrip(long to, long nanos) {
  }

  /** Tells nothing. */
  PeerStats NONE = new PeerStats() { };
}
