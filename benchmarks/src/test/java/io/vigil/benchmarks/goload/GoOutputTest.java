package io.vigil.benchmarks.goload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.benchmarks.measure.Measure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The resources under goload/ are the Go tool's stdout + stderr in the format of etcd 3.4's
 * pkg/report with --precise (%g numbers), including the progress bar's \r redraws and the
 * response-time histogram the parser must skip.
 */
class GoOutputTest {
  static String resource(String name) throws IOException {
    try (InputStream in = GoOutputTest.class.getResourceAsStream("/goload/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void readsAPutSummaryIntoAMeasure() throws IOException {
    String output = resource("put.txt");
    List<GoOutput.Summary> summaries = GoOutput.parse(output);
    assertEquals(1, summaries.size());
    GoOutput.Summary put = summaries.get(0);
    assertEquals("", put.title());
    assertEquals(2000, put.count());
    assertEquals(8, put.percentiles().size());

    Measure m = put.toMeasure("put", true);
    assertEquals(2000, m.count());
    assertEquals(0, m.errors());
    assertEquals(412_345_600, m.elapsedNs());
    assertEquals(2000 / 0.4123456, m.perSecond(), 0.01);
    // the histogram is rebuilt from the printed percentiles: those are exact to 3 digits
    assertEquals(3.01, m.latencyMs(50), 0.01);
    assertEquals(6.01, m.latencyMs(90), 0.01);
    assertEquals(20.1, m.latencyMs(99), 0.1);
    assertEquals(45.7, m.maxLatencyMs(), 0.1);
  }

  @Test
  void countsTheErrorDistribution() throws IOException {
    GoOutput.Summary put = GoOutput.parse(resource("put-errors.txt")).get(0);
    assertEquals(4, put.errors());
    assertEquals("etcdserver: request timed out", put.firstError());
    assertEquals(4, put.toMeasure("put", true).errors());
  }

  @Test
  void aRunWhoseRequestsAllFailedIsAFailureNamingTheError() throws IOException {
    GoOutput.Summary failed = GoOutput.find(GoOutput.parse(resource("all-failed.txt")), "", "");
    assertEquals(0, failed.count());
    String why = assertThrows(IllegalStateException.class, () -> failed.toMeasure("put", true)).getMessage();
    assertTrue(why.contains("all 5 put requests failed") && why.contains("connection refused"), why);
  }

  @Test
  void readsBothWatchSummariesByTitle() throws IOException {
    String output = resource("watch.txt");
    List<Measure> measures = GoLoader.measures("watch-fanout", output);
    Measure events = measures.get(0);
    assertEquals("events", events.name());
    assertEquals(16_000, events.count());
    assertEquals(10_000, events.perSecond(), 0.01);
    // the tool's per-event time is not put-to-event latency, so none is reported
    assertTrue(Double.isNaN(events.latencyMs(99)));
    Measure created = measures.get(1);
    assertEquals("watch-create", created.name());
    assertEquals(200, created.count());
    assertEquals(10.0, created.latencyMs(99), 0.01);
  }

  @Test
  void measuresAreNamedAsTheJavaLoadersAre() throws IOException {
    String output = resource("put.txt");
    assertEquals("put", GoLoader.measures("put", output).get(0).name());
    assertEquals("range", GoLoader.measures("range-serializable", output).get(0).name());
    assertEquals("txn", GoLoader.measures("txn-put", output).get(0).name());
  }

  @Test
  void aMissingSummaryFailsWithTheEndOfTheOutput() {
    String output = "panic: rpc error: code = Unavailable\n\ngoroutine 1 [running]:\n";
    String why = assertThrows(IllegalStateException.class,
        () -> GoLoader.measures("put", output)).getMessage();
    assertTrue(why.contains("printed no summary") && why.contains("panic: rpc error"), why);
    String watch = assertThrows(IllegalStateException.class,
        () -> GoLoader.measures("watch-fanout", output)).getMessage();
    assertTrue(watch.contains("'Watch events received'"), watch);
  }
}
