package io.vigil.benchmarks.report;

import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.ResourceUsage;
import io.vigil.benchmarks.measure.RoundResult;
import io.vigil.benchmarks.measure.Side;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** One scenario's results per side, built from the rounds in the order they ran. */
public record ScenarioSummary(String scenario, Map<Side, SideSummary> sides) {

  public static List<ScenarioSummary> of(List<RoundResult> rounds) {
    Map<String, Map<Side, List<RoundResult>>> grouped = new LinkedHashMap<>();
    for (RoundResult round : rounds) {
      grouped.computeIfAbsent(round.scenario(), k -> new EnumMap<>(Side.class))
          .computeIfAbsent(round.side(), k -> new ArrayList<>()).add(round);
    }
    List<ScenarioSummary> summaries = new ArrayList<>();
    grouped.forEach((scenario, bySide) -> {
      Map<Side, SideSummary> sides = new EnumMap<>(Side.class);
      bySide.forEach((side, sideRounds) -> sides.put(side, summarize(sideRounds)));
      summaries.add(new ScenarioSummary(scenario, sides));
    });
    return summaries;
  }

  private static SideSummary summarize(List<RoundResult> rounds) {
    Map<String, List<Measure>> byName = new LinkedHashMap<>();
    ResourceUsage server = ResourceUsage.UNKNOWN;
    ResourceUsage client = ResourceUsage.UNKNOWN;
    List<Double> perRound = new ArrayList<>();
    for (RoundResult round : rounds) {
      round.measures().forEach(m -> byName.computeIfAbsent(m.name(), k -> new ArrayList<>()).add(m));
      server = server.plus(round.server());
      client = client.plus(round.client());
      perRound.add(round.primary().perSecond());
    }
    List<Measure> merged = byName.values().stream().map(Measure::merge).toList();
    return new SideSummary(merged, server, client, List.copyOf(perRound));
  }

  /** {@code vigil / etcd} of a value, NaN unless both sides ran. */
  public double ratio(ToDoubleFunction<SideSummary> value) {
    SideSummary vigil = sides.get(Side.VIGIL);
    SideSummary etcd = sides.get(Side.ETCD);
    if (vigil == null || etcd == null) {
      return Double.NaN;
    }
    double denominator = value.applyAsDouble(etcd);
    return denominator == 0 ? Double.NaN : value.applyAsDouble(vigil) / denominator;
  }
}
