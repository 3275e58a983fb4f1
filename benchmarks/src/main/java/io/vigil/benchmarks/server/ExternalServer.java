package io.vigil.benchmarks.server;

/** A server the user already runs; the harness neither starts nor stops it. */
public record ExternalServer(String endpoint, long pid) implements ServerHandle {
  @Override
  public String origin() {
    return "already running" + (pid >= 0 ? " as pid " + pid : " (no pid given: CPU/RSS not sampled)");
  }

  @Override
  public void close() {}
}
