package io.vigil.benchmarks.report;

import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.RoundResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a run's results folder: {@code report.md}, PNG charts, {@code rounds.csv} (one line per
 * round and measure) and one HdrHistogram percentile file ({@code .hgrm}, ms) per scenario,
 * measure and side, for anyone who wants to re-plot.
 */
public final class ResultFiles {
  private ResultFiles() {}

  /** Returns the path of the written report. */
  public static Path write(Path dir, RunInfo info, List<RoundResult> rounds, boolean charts) throws IOException {
    Files.createDirectories(dir);
    List<ScenarioSummary> summaries = ScenarioSummary.of(rounds);
    Map<String, List<String>> chartFiles = new LinkedHashMap<>();
    for (ScenarioSummary summary : summaries) {
      if (charts) {
        chartFiles.put(summary.scenario(), Charts.write(summary, dir));
      }
      writeHistograms(dir, summary);
    }
    Files.writeString(dir.resolve("rounds.csv"), roundsCsv(rounds));
    Path report = dir.resolve("report.md");
    Files.writeString(report, MarkdownReport.render(info, summaries, chartFiles));
    return report;
  }

  static String roundsCsv(List<RoundResult> rounds) {
    StringBuilder csv = new StringBuilder("scenario,side,round,measure,count,errors,elapsed_ms,rate_per_s,"
        + "p50_ms,p90_ms,p99_ms,max_ms,server_cpu_s,server_peak_rss_bytes,client_cpu_s\n");
    for (RoundResult round : rounds) {
      for (Measure m : round.measures()) {
        csv.append(String.format(Locale.ROOT, "%s,%s,%d,%s,%d,%d,%.1f,%.1f,%.3f,%.3f,%.3f,%.3f,%.3f,%d,%.3f%n",
            round.scenario(), round.side().label(), round.round(), m.name(), m.count(), m.errors(),
            m.elapsedNs() / 1e6, m.perSecond(), m.latencyMs(50), m.latencyMs(90), m.latencyMs(99), m.maxLatencyMs(),
            round.server().cpuSeconds(), round.server().peakRssBytes(), round.client().cpuSeconds()));
      }
    }
    return csv.toString();
  }

  private static void writeHistograms(Path dir, ScenarioSummary summary) throws IOException {
    for (var side : summary.sides().entrySet()) {
      for (Measure m : side.getValue().measures()) {
        if (m.latencyNs().getTotalCount() == 0) {
          continue;
        }
        Path file = dir.resolve(summary.scenario() + "-" + m.name() + "-" + side.getKey().label() + ".hgrm");
        try (PrintStream out = new PrintStream(Files.newOutputStream(file), false, StandardCharsets.UTF_8)) {
          m.latencyNs().outputPercentileDistribution(out, 1e6);
        }
      }
    }
  }
}
