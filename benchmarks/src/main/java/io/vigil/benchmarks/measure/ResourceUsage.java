package io.vigil.benchmarks.measure;

/**
 * What a server process (with its child processes) consumed during one measurement window:
 * CPU seconds (user + system) and the highest resident set size seen by the sampler.
 */
public record ResourceUsage(double cpuSeconds, long peakRssBytes) {
  public static final ResourceUsage UNKNOWN = new ResourceUsage(Double.NaN, -1);

  public boolean known() {
    return !Double.isNaN(cpuSeconds);
  }

  /** Usage over several windows: CPU seconds add up, the peak is the highest peak. */
  public ResourceUsage plus(ResourceUsage other) {
    if (!known()) {
      return other;
    }
    if (!other.known()) {
      return this;
    }
    return new ResourceUsage(cpuSeconds + other.cpuSeconds, Math.max(peakRssBytes, other.peakRssBytes));
  }
}
