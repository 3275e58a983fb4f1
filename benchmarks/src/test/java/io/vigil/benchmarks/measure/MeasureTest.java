package io.vigil.benchmarks.measure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class MeasureTest {
  private static Measure measure(String name, long errors, long elapsedNs, long... latenciesNs) {
    Histogram histogram = Measure.newHistogram();
    for (long latency : latenciesNs) {
      histogram.recordValue(latency);
    }
    return new Measure(name, latenciesNs.length, errors, elapsedNs, histogram);
  }

  @Test
  void mergeAddsCountsErrorsElapsedAndHistograms() {
    // round 1: 1..50 ms, round 2: 51..100 ms; merged, the percentiles are those of 1..100 ms
    long[] first = new long[50];
    long[] second = new long[50];
    for (int i = 0; i < 50; i++) {
      first[i] = (i + 1) * 1_000_000L;
      second[i] = (i + 51) * 1_000_000L;
    }
    Measure merged = Measure.merge(List.of(measure("put", 1, 1_000_000_000L, first),
        measure("put", 2, 3_000_000_000L, second)));

    assertEquals("put", merged.name());
    assertEquals(100, merged.count());
    assertEquals(3, merged.errors());
    assertEquals(4_000_000_000L, merged.elapsedNs());
    assertEquals(25.0, merged.perSecond(), 1e-9);
    assertEquals(50.0, merged.latencyMs(50), 0.05);
    assertEquals(90.0, merged.latencyMs(90), 0.1);
    assertEquals(99.0, merged.latencyMs(99), 0.1);
    assertEquals(100.0, merged.maxLatencyMs(), 0.1);
  }

  @Test
  void mergeLeavesItsInputsAlone() {
    Measure round = measure("put", 0, 1_000_000_000L, 5_000_000L);
    Measure.merge(List.of(round, round));
    assertEquals(1, round.latencyNs().getTotalCount());
  }

  @Test
  void mergeRefusesDifferentMeasures() {
    var error = assertThrows(IllegalArgumentException.class, () -> Measure.merge(List.of(
        measure("put", 0, 1, 1), measure("range", 0, 1, 1))));
    assertEquals("cannot merge measure range into put", error.getMessage());
  }

  @Test
  void emptyMeasureHasNoLatency() {
    Measure empty = measure("put", 0, 1_000_000_000L);
    assertEquals(0.0, empty.perSecond());
    assertEquals(Double.NaN, empty.latencyMs(99));
  }

  @Test
  void recorderCountsOnlySinceResetAndReportsTotalFailure() {
    var progress = new java.util.concurrent.atomic.LongAdder();
    LatencyRecorder recorder = new LatencyRecorder("put", progress);
    recorder.recordNs(7_000_000);
    recorder.reset();
    recorder.recordNs(2_000_000);
    recorder.recordNs(4_000_000);
    recorder.recordError(new RuntimeException("boom"));
    Measure m = recorder.toMeasure(1_000_000_000L);
    assertEquals(2, m.count());
    assertEquals(1, m.errors());
    assertEquals(4.0, m.maxLatencyMs(), 0.01);
    assertEquals(3, progress.sum());

    LatencyRecorder failing = new LatencyRecorder("range", null);
    failing.recordError(new RuntimeException("UNIMPLEMENTED: no KV yet"));
    var error = assertThrows(IllegalStateException.class, () -> failing.toMeasure(1));
    assertEquals("all 1 range requests failed; first error: UNIMPLEMENTED: no KV yet", error.getMessage());
  }

  @Test
  void resourceUsageAddsCpuAndKeepsThePeak() {
    ResourceUsage sum = new ResourceUsage(1.5, 100).plus(new ResourceUsage(2.0, 80)).plus(ResourceUsage.UNKNOWN);
    assertEquals(3.5, sum.cpuSeconds(), 1e-9);
    assertEquals(100, sum.peakRssBytes());
    assertEquals(sum, ResourceUsage.UNKNOWN.plus(sum));
  }
}
