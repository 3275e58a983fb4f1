package io.vigil.benchmarks.measure;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * Thread-safe, wait-free recording of latencies (ns) and errors from many gRPC callback threads.
 * Also feeds the live progress counter of the round it belongs to.
 */
public final class LatencyRecorder {
  private final String name;
  private final Recorder recorder = new Recorder(3);
  private final LongAdder errors = new LongAdder();
  private final LongAdder progress;
  private final AtomicReference<String> firstError = new AtomicReference<>();

  /** @param progress counter shown on the live progress line, or null */
  public LatencyRecorder(String name, LongAdder progress) {
    this.name = name;
    this.progress = progress;
  }

  public void recordNs(long latencyNs) {
    recorder.recordValue(Math.max(0, latencyNs));
    if (progress != null) {
      progress.increment();
    }
  }

  public void recordError(Throwable error) {
    errors.increment();
    firstError.compareAndSet(null, String.valueOf(error.getMessage()));
  }

  /** Counts {@code count} failures that have no exception of their own (e.g. events never delivered). */
  public void recordErrors(long count, String why) {
    if (count > 0) {
      errors.add(count);
      firstError.compareAndSet(null, why);
    }
  }

  /** Forgets everything recorded so far (e.g. during warm-up). */
  public void reset() {
    recorder.reset();
    errors.reset();
  }

  public String firstError() {
    return firstError.get();
  }

  /** The measure over {@code elapsedNs}; counts every latency recorded since the last reset. */
  public Measure toMeasure(long elapsedNs) {
    var histogram = Measure.newHistogram();
    histogram.add(recorder.getIntervalHistogram());
    long errorCount = errors.sum();
    if (histogram.getTotalCount() == 0 && errorCount > 0) {
      throw new IllegalStateException(
          "all " + errorCount + " " + name + " requests failed; first error: " + firstError.get());
    }
    return new Measure(name, histogram.getTotalCount(), errorCount, elapsedNs, histogram);
  }
}
