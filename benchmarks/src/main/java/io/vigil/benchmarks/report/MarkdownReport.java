package io.vigil.benchmarks.report;

import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.ResourceUsage;
import io.vigil.benchmarks.measure.Side;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Renders the run as Markdown: run facts, one table of every measure per side with a
 * {@code vigil/etcd} ratio row, the goal verdicts, failures, and links to the charts.
 * Pure: same input, same text.
 */
public final class MarkdownReport {
  static final String TABLE_HEADER =
      "| scenario | measure | side | rate /s | p50 ms | p90 ms | p99 ms | max ms | errors "
          + "| server CPU s | server µs/op | server peak RSS MiB | client CPU s | client µs/op |";

  private MarkdownReport() {}

  public static String render(RunInfo info, List<ScenarioSummary> summaries, Map<String, List<String>> charts) {
    StringBuilder out = new StringBuilder();
    out.append("# Vigil vs etcd benchmark report\n\n");
    runFacts(out, info);
    out.append("## Results\n\n");
    out.append("Rates and latencies are merged over all rounds of a side. Ratio rows are vigil/etcd: above 1 is "
        + "better for rates, below 1 is better for latency, CPU and memory. µs/op is CPU per headline operation "
        + "(per delivered event for watch scenarios); client is the load generator: the harness's JVM, or etcd's "
        + "Go benchmark tool in the rows of scenarios named *-go (--loader).\n\n");
    out.append(TABLE_HEADER).append('\n');
    out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (ScenarioSummary summary : summaries) {
      table(out, summary);
    }
    out.append('\n');
    goals(out, summaries);
    failures(out, info);
    scenarios(out, info);
    chartLinks(out, charts);
    return out.toString();
  }

  private static void runFacts(StringBuilder out, RunInfo info) {
    out.append("- started: ").append(info.startedAt()).append('\n');
    out.append("- command: `").append(info.command()).append("`\n");
    out.append("- machine: ").append(info.machine()).append('\n');
    out.append("- rounds: ").append(info.rounds()).append(" measured per side after ").append(info.warmupRounds())
        .append(" unmeasured warm-up round(s), interleaved; each ")
        .append(info.warmupMs()).append(" ms warm-up + ").append(info.durationMs()).append(" ms measured; ")
        .append(info.serverWarmupMs()).append(" ms of unmeasured puts on each server before the first scenario\n");
    out.append("- seed: ").append(info.seed()).append('\n');
    info.servers().forEach((side, text) -> out.append("- ").append(side.label()).append(": ").append(text).append('\n'));
    out.append('\n');
  }

  private static void table(StringBuilder out, ScenarioSummary summary) {
    SideSummary any = summary.sides().values().iterator().next();
    for (Measure first : any.measures()) {
      String name = first.name();
      boolean headline = first == any.headline();
      for (Side side : Side.values()) {
        SideSummary s = summary.sides().get(side);
        if (s == null || s.measure(name) == null) {
          continue;
        }
        Measure m = s.measure(name);
        row(out, summary.scenario(), name, side.label(), fmtRate(m.perSecond()), fmtMs(m.latencyMs(50)),
            fmtMs(m.latencyMs(90)), fmtMs(m.latencyMs(99)), fmtMs(m.maxLatencyMs()), Long.toString(m.errors()),
            headline ? fmtCpu(s.server()) : "", headline ? fmtNumber(s.serverCpuUsPerOp()) : "",
            headline ? fmtRss(s.server()) : "", headline ? fmtCpu(s.client()) : "",
            headline ? fmtNumber(s.clientCpuUsPerOp()) : "");
      }
      if (summary.sides().size() == 2) {
        ToDoubleFunction<ToDoubleFunction<Measure>> ratio = f -> summary.ratio(s -> measureOr(s, name, f));
        row(out, summary.scenario(), name, "**vigil/etcd**", fmtRatio(ratio.applyAsDouble(Measure::perSecond)),
            fmtRatio(ratio.applyAsDouble(m -> m.latencyMs(50))), fmtRatio(ratio.applyAsDouble(m -> m.latencyMs(90))),
            fmtRatio(ratio.applyAsDouble(m -> m.latencyMs(99))), fmtRatio(ratio.applyAsDouble(Measure::maxLatencyMs)),
            "", headline ? fmtRatio(summary.ratio(s -> s.server().cpuSeconds())) : "",
            headline ? fmtRatio(summary.ratio(SideSummary::serverCpuUsPerOp)) : "",
            headline ? fmtRatio(summary.ratio(s -> s.server().peakRssBytes())) : "",
            headline ? fmtRatio(summary.ratio(s -> s.client().cpuSeconds())) : "",
            headline ? fmtRatio(summary.ratio(SideSummary::clientCpuUsPerOp)) : "");
      }
    }
  }

  private static double measureOr(SideSummary side, String name, ToDoubleFunction<Measure> f) {
    Measure m = side.measure(name);
    return m == null ? Double.NaN : f.applyAsDouble(m);
  }

  private static void goals(StringBuilder out, List<ScenarioSummary> summaries) {
    out.append("## Goals\n\n| goal | rate ratio | p99 ratio | verdict |\n|---|---:|---:|---|\n");
    for (Goal goal : Goal.ALL) {
      ScenarioSummary summary = summaries.stream().filter(s -> s.scenario().equals(goal.scenario())).findFirst()
          .orElse(null);
      double rate = summary == null ? Double.NaN : summary.ratio(s -> measureOr(s, goal.measure(), Measure::perSecond));
      double p99 = summary == null ? Double.NaN : summary.ratio(s -> measureOr(s, goal.measure(), m -> m.latencyMs(99)));
      Goal.Verdict verdict = goal.judge(rate, p99);
      out.append("| ").append(goal.scenario()).append(' ').append(goal.measure()).append(" rate ≥ ")
          .append(fmtNumber(goal.minRateRatio())).append("× etcd, p99 ≤ etcd");
      if (!goal.note().isEmpty()) {
        out.append(" (").append(goal.note()).append(')');
      }
      out.append(" | ").append(fmtRatio(rate)).append(" | ").append(fmtRatio(p99)).append(" | ")
          .append(verdict.name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(" |\n");
    }
    out.append('\n');
  }

  private static void failures(StringBuilder out, RunInfo info) {
    if (info.failures().isEmpty()) {
      return;
    }
    out.append("## Failures\n\n");
    info.failures().forEach((scenario, bySide) -> bySide.forEach((side, why) ->
        out.append("- ").append(scenario).append(" on ").append(side.label()).append(": ")
            .append(why.replace('\n', ' ')).append('\n')));
    out.append('\n');
  }

  private static void scenarios(StringBuilder out, RunInfo info) {
    out.append("## Scenarios\n\n");
    info.scenarios().forEach((name, text) -> out.append("- ").append(name).append(": ").append(text).append('\n'));
    out.append('\n');
  }

  private static void chartLinks(StringBuilder out, Map<String, List<String>> charts) {
    if (charts.isEmpty()) {
      return;
    }
    out.append("## Charts\n\n");
    charts.forEach((scenario, files) -> {
      out.append("### ").append(scenario).append("\n\n");
      files.forEach(file -> out.append("![").append(file).append("](").append(file).append(")\n"));
      out.append('\n');
    });
  }

  private static void row(StringBuilder out, String... cells) {
    out.append("| ").append(String.join(" | ", cells)).append(" |\n");
  }

  static String fmtRate(double perSecond) {
    if (Double.isNaN(perSecond)) {
      return "–";
    }
    return perSecond >= 100 ? String.format(Locale.ROOT, "%,.0f", perSecond)
        : String.format(Locale.ROOT, "%.1f", perSecond);
  }

  static String fmtMs(double ms) {
    if (Double.isNaN(ms)) {
      return "–";
    }
    return ms >= 100 ? String.format(Locale.ROOT, "%.0f", ms)
        : ms >= 10 ? String.format(Locale.ROOT, "%.1f", ms) : String.format(Locale.ROOT, "%.2f", ms);
  }

  static String fmtRatio(double ratio) {
    return Double.isNaN(ratio) || Double.isInfinite(ratio) ? "–" : String.format(Locale.ROOT, "%.2f×", ratio);
  }

  static String fmtNumber(double value) {
    return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%.1f", value);
  }

  private static String fmtCpu(ResourceUsage usage) {
    return usage.known() ? String.format(Locale.ROOT, "%.2f", usage.cpuSeconds()) : "–";
  }

  private static String fmtRss(ResourceUsage usage) {
    return usage.known() ? String.format(Locale.ROOT, "%.0f", usage.peakRssBytes() / 1048576.0) : "–";
  }
}
