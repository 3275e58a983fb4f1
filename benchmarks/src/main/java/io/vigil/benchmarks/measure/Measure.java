package io.vigil.benchmarks.measure;

import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * One named quantity of a round, e.g. "put" (request latency) or "delivery" (put-to-event
 * latency of watch events): how many operations completed in {@code elapsedNs}, how many failed,
 * and the latency of each completed one in nanoseconds. The rate is {@code count / elapsed}.
 */
public final class Measure {
  private final String name;
  private final long count;
  private final long errors;
  private final long elapsedNs;
  private final Histogram latencyNs;

  public Measure(String name, long count, long errors, long elapsedNs, Histogram latencyNs) {
    if (count < 0 || errors < 0 || elapsedNs < 0) {
      throw new IllegalArgumentException(
          "negative count/errors/elapsedNs for " + name + ": " + count + "/" + errors + "/" + elapsedNs);
    }
    this.name = name;
    this.count = count;
    this.errors = errors;
    this.elapsedNs = elapsedNs;
    this.latencyNs = latencyNs;
  }

  public static Histogram newHistogram() {
    Histogram histogram = new Histogram(3);
    histogram.setAutoResize(true);
    return histogram;
  }

  /** Sums counts, errors and elapsed time, and merges the latency histograms of several rounds. */
  public static Measure merge(List<Measure> rounds) {
    if (rounds.isEmpty()) {
      throw new IllegalArgumentException("nothing to merge");
    }
    String name = rounds.get(0).name;
    Histogram merged = newHistogram();
    long count = 0;
    long errors = 0;
    long elapsedNs = 0;
    for (Measure round : rounds) {
      if (!round.name.equals(name)) {
        throw new IllegalArgumentException("cannot merge measure " + round.name + " into " + name);
      }
      merged.add(round.latencyNs);
      count += round.count;
      errors += round.errors;
      elapsedNs += round.elapsedNs;
    }
    return new Measure(name, count, errors, elapsedNs, merged);
  }

  public String name() {
    return name;
  }

  public long count() {
    return count;
  }

  public long errors() {
    return errors;
  }

  public long elapsedNs() {
    return elapsedNs;
  }

  public Histogram latencyNs() {
    return latencyNs;
  }

  public double perSecond() {
    return elapsedNs == 0 ? 0 : count * 1e9 / elapsedNs;
  }

  /** Latency at {@code percentile} (0..100) in milliseconds; NaN when nothing was recorded. */
  public double latencyMs(double percentile) {
    return latencyNs.getTotalCount() == 0 ? Double.NaN : latencyNs.getValueAtPercentile(percentile) / 1e6;
  }

  public double maxLatencyMs() {
    return latencyNs.getTotalCount() == 0 ? Double.NaN : latencyNs.getMaxValue() / 1e6;
  }
}
