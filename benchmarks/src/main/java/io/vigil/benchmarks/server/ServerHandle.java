package io.vigil.benchmarks.server;

/** A server under test: where to reach it, which process to sample, how to stop it. */
public interface ServerHandle extends AutoCloseable {
  /** {@code host:port} of the etcd v3 gRPC API. */
  String endpoint();

  /** Pid of the server (its descendants are sampled too), or -1 when unknown. */
  long pid();

  /** How it was obtained, for the report ("started by bin/vigil", "given endpoint"). */
  String origin();

  /** Stops the server if this harness started it; otherwise does nothing. */
  @Override
  void close();
}
