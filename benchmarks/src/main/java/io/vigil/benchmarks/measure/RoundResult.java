package io.vigil.benchmarks.measure;

import java.util.List;

/**
 * Everything one round of one scenario measured on one side. {@code server} is the server
 * process tree's usage, {@code client} this load generator's (to see when the client, not the
 * server, is the bottleneck on a small machine).
 */
public record RoundResult(
    String scenario, Side side, int round, List<Measure> measures, ResourceUsage server, ResourceUsage client) {

  public RoundResult {
    if (measures.isEmpty()) {
      throw new IllegalArgumentException("round " + round + " of " + scenario + " measured nothing");
    }
    measures = List.copyOf(measures);
  }

  /** The first measure is the scenario's headline: the one charted and held to the goals. */
  public Measure primary() {
    return measures.get(0);
  }
}
