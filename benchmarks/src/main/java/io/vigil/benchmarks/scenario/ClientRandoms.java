package io.vigil.benchmarks.scenario;

import java.util.SplittableRandom;

/**
 * One random stream per client loop, all derived from the run's seed, so both sides see the same
 * key sequence per client. A client has one request in flight, so its stream is never used by
 * two threads at once.
 */
final class ClientRandoms {
  private final SplittableRandom[] randoms;

  ClientRandoms(long seed, int clients) {
    SplittableRandom root = new SplittableRandom(seed);
    randoms = new SplittableRandom[clients];
    for (int i = 0; i < clients; i++) {
      randoms[i] = root.split();
    }
  }

  int nextInt(int client, int bound) {
    return randoms[client].nextInt(bound);
  }
}
