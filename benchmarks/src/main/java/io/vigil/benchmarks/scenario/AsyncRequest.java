package io.vigil.benchmarks.scenario;

/** Sends one asynchronous request; must not block; must complete {@code done} exactly once. */
@FunctionalInterface
public interface AsyncRequest {
  void issue(int client, long sequence, Completion done);
}
