package io.vigil.benchmarks.report;

import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.ResourceUsage;
import java.util.List;

/**
 * All rounds of one scenario on one side: each measure merged over the rounds (in the order the
 * scenario reports them, headline first), the summed resource usage, and the headline rate of
 * every round (for the per-round chart).
 */
public record SideSummary(List<Measure> measures, ResourceUsage server, ResourceUsage client,
    List<Double> headlinePerRound) {

  public Measure headline() {
    return measures.get(0);
  }

  public Measure measure(String name) {
    return measures.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
  }

  /** Server CPU microseconds per headline operation; NaN when unknown. */
  public double serverCpuUsPerOp() {
    return usPerOp(server);
  }

  /** The load generator's CPU microseconds per headline operation: when it nears the server's, the client limits. */
  public double clientCpuUsPerOp() {
    return usPerOp(client);
  }

  private double usPerOp(ResourceUsage usage) {
    long count = headline().count();
    return !usage.known() || count == 0 ? Double.NaN : usage.cpuSeconds() * 1e6 / count;
  }
}
