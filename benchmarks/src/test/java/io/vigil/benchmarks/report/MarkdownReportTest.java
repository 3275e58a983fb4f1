package io.vigil.benchmarks.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.ResourceUsage;
import io.vigil.benchmarks.measure.RoundResult;
import io.vigil.benchmarks.measure.Side;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MarkdownReportTest {
  private static final long SECOND_NS = 1_000_000_000L;
  private static final long MIB = 1024 * 1024;

  /** {@code count} operations in one second, all with the same latency. */
  static Measure uniform(String name, long count, double latencyMs) {
    Histogram histogram = Measure.newHistogram();
    histogram.recordValueWithCount((long) (latencyMs * 1e6), count);
    return new Measure(name, count, 0, SECOND_NS, histogram);
  }

  static RoundResult round(String scenario, Side side, int round, double cpuSeconds, long rssMib, Measure... measures) {
    return new RoundResult(scenario, side, round, List.of(measures), new ResourceUsage(cpuSeconds, rssMib * MIB),
        new ResourceUsage(0.5, 100 * MIB));
  }

  static RunInfo info(Map<String, Map<Side, String>> failures) {
    return new RunInfo("2026-01-01T00:00Z", "benchmarks/run --quick", "2 cores, 24.0 GiB", 42, 2, 1, 1000, 200, 1000,
        Map.of(Side.VIGIL, "started by bin/vigil", Side.ETCD, "started by reference-etcd"),
        Map.of("put", "16 clients"), failures);
  }

  /** Two rounds per side: Vigil 4000 + 4000 puts at 1 ms, etcd 2000 + 2000 at 2 ms. */
  static List<RoundResult> putRounds() {
    return List.of(
        round("put", Side.VIGIL, 1, 1.0, 50, uniform("put", 4000, 1.0)),
        round("put", Side.ETCD, 1, 2.0, 100, uniform("put", 2000, 2.0)),
        round("put", Side.ETCD, 2, 2.0, 120, uniform("put", 2000, 2.0)),
        round("put", Side.VIGIL, 2, 1.0, 60, uniform("put", 4000, 1.0)));
  }

  @Test
  void rendersOneRowPerSideAndARatioRow() {
    String report = MarkdownReport.render(info(Map.of()), ScenarioSummary.of(putRounds()), Map.of());

    assertTrue(report.contains(MarkdownReport.TABLE_HEADER));
    // 8000 puts in 2 s; server 2 CPU s over 8000 puts = 250 µs/op; peak RSS is the higher round;
    // the client's 2 × 0.5 CPU s over 8000 puts = 125 µs/op
    assertTrue(report.contains(
        "| put | put | vigil | 4,000 | 1.00 | 1.00 | 1.00 | 1.00 | 0 | 2.00 | 250.0 | 60 | 1.00 | 125.0 |"), report);
    assertTrue(report.contains(
        "| put | put | etcd | 2,000 | 2.00 | 2.00 | 2.00 | 2.00 | 0 | 4.00 | 1000.0 | 120 | 1.00 | 250.0 |"), report);
    assertTrue(report.contains(
        "| put | put | **vigil/etcd** | 2.00× | 0.50× | 0.50× | 0.50× | 0.50× |  | 0.50× | 0.25× | 0.50× | 1.00× | 0.50× |"),
        report);
  }

  @Test
  void judgesTheGoalsFromTheRatios() {
    String met = MarkdownReport.render(info(Map.of()), ScenarioSummary.of(putRounds()), Map.of());
    assertTrue(met.contains("| put put rate ≥ 2.0× etcd, p99 ≤ etcd | 2.00× | 0.50× | met |"), met);
    assertTrue(met.contains("| – | – | not measured |"), met); // watch-fanout did not run

    List<RoundResult> slower = List.of(
        round("put", Side.VIGIL, 1, 1.0, 50, uniform("put", 3000, 3.0)),
        round("put", Side.ETCD, 1, 1.0, 50, uniform("put", 2000, 2.0)));
    String notMet = MarkdownReport.render(info(Map.of()), ScenarioSummary.of(slower), Map.of());
    assertTrue(notMet.contains("| 1.50× | 1.50× | not met |"), notMet);
  }

  @Test
  void oneSidedRunHasNoRatioRowAndListsFailures() {
    List<RoundResult> etcdOnly = List.of(round("put", Side.ETCD, 1, 1.0, 50, uniform("put", 1000, 1.0)));
    String report = MarkdownReport.render(info(Map.of("put", Map.of(Side.VIGIL, "launcher missing"))),
        ScenarioSummary.of(etcdOnly), Map.of("put", List.of("put-latency.png")));
    assertFalse(report.contains("vigil/etcd**"), report);
    assertTrue(report.contains("- put on vigil: launcher missing"), report);
    assertTrue(report.contains("![put-latency.png](put-latency.png)"), report);
  }

  @Test
  void secondaryMeasuresGetRowsWithoutResourceColumns() {
    List<RoundResult> rounds = List.of(round("watch-fanout", Side.ETCD, 1, 1.0, 50,
        uniform("delivery", 20000, 5.0), uniform("put", 100, 1.0)));
    String report = MarkdownReport.render(info(Map.of()), ScenarioSummary.of(rounds), Map.of());
    assertTrue(report.contains("| watch-fanout | delivery | etcd | 20,000 | 5.00 |"), report);
    assertTrue(report.contains("| watch-fanout | put | etcd | 100 | 1.00 | 1.00 | 1.00 | 1.00 | 0 |  |  |  |  |"),
        report);
  }

  @Test
  void summaryKeepsRoundOrderPerSide() {
    ScenarioSummary summary = ScenarioSummary.of(List.of(
        round("put", Side.VIGIL, 1, 1.0, 50, uniform("put", 1000, 1.0)),
        round("put", Side.VIGIL, 2, 1.0, 50, uniform("put", 3000, 1.0)))).get(0);
    assertEquals(List.of(1000.0, 3000.0), summary.sides().get(Side.VIGIL).headlinePerRound());
    assertEquals(Double.NaN, summary.ratio(s -> s.headline().perSecond()));
  }

  @Test
  void formatsNumbersForTheTable() {
    assertEquals("12,346", MarkdownReport.fmtRate(12345.6));
    assertEquals("9.5", MarkdownReport.fmtRate(9.49));
    assertEquals("0.12", MarkdownReport.fmtMs(0.123));
    assertEquals("43.2", MarkdownReport.fmtMs(43.21));
    assertEquals("273", MarkdownReport.fmtMs(273.4));
    assertEquals("–", MarkdownReport.fmtRatio(Double.NaN));
  }

  @Test
  void writesTheResultsFolder(@TempDir Path dir) throws Exception {
    Path report = ResultFiles.write(dir, info(Map.of()), putRounds(), true);
    assertTrue(Files.readString(report).startsWith("# Vigil vs etcd benchmark report"));
    assertTrue(Files.size(dir.resolve("put-latency.png")) > 0);
    assertTrue(Files.size(dir.resolve("put-rounds.png")) > 0);
    assertTrue(Files.readString(dir.resolve("put-put-etcd.hgrm")).contains("Percentile"));
    List<String> csv = Files.readAllLines(dir.resolve("rounds.csv"));
    assertEquals(5, csv.size());
    assertEquals("put,vigil,1,put,4000,0,1000.0,4000.0,1.000,1.000,1.000,1.000,1.000,52428800,0.500", csv.get(1));
  }
}
