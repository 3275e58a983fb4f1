package io.vigil.benchmarks.goload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.benchmarks.measure.Measure;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** wrk 4.1's output with --latency, as printed for a POST script, read into a measure. */
class WrkTest {
  private static final String OUTPUT = String.join("\n",
      "Running 10s test @ http://127.0.0.1:40713",
      "  1 threads and 64 connections",
      "  Thread Stats   Avg      Stdev     Max   +/- Stdev",
      "    Latency     4.52ms    2.91ms  41.07ms   83.12%",
      "    Req/Sec    13.95k     1.02k   15.80k    71.00%",
      "  Latency Distribution",
      "     50%    3.51ms",
      "     75%    5.02ms",
      "     90%    7.77ms",
      "     99%   15.93ms",
      "  139512 requests in 10.00s, 48.21MB read",
      "  Non-2xx or 3xx responses: 12",
      "Requests/sec:  13950.12",
      "Transfer/sec:      4.82MB",
      "");

  @Test
  void readsCountErrorsAndPercentiles() {
    Measure m = Wrk.measure("json-put", OUTPUT);
    assertEquals("put", m.name());
    assertEquals(139_500, m.count());
    assertEquals(12, m.errors());
    // the fixture's "in 10.00s", read as text: a parser check, not a timing
    assertEquals(TimeUnit.SECONDS.toNanos(10), m.elapsedNs());
    long p50 = m.latencyNs().getValueAtPercentile(50);
    assertTrue(Math.abs(p50 - 3_510_000) < 10_000, "p50 " + p50);
    long max = m.latencyNs().getMaxValue();
    assertTrue(Math.abs(max - 41_070_000) < 50_000, "max " + max);
  }

  @Test
  void outputWithoutARequestCountFails() {
    assertThrows(IllegalStateException.class, () -> Wrk.measure("json-range", "unable to connect to 127.0.0.1:1 Connection refused\n"));
  }
}
