package io.vigil.benchmarks.report;

import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.Side;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG charts of one scenario: the headline latency distribution of each side (percentile on a
 * "nines" axis: 1 = p90, 2 = p99, 3 = p99.9) and the headline rate of every round per side.
 */
public final class Charts {
  private static final int WIDTH = 800;
  private static final int HEIGHT = 500;

  private Charts() {}

  /** Writes the charts into {@code dir} and returns their file names. */
  public static List<String> write(ScenarioSummary summary, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<String> files = new ArrayList<>();
    // a headline without latencies (the Go watch tool's events) gets no latency chart
    if (summary.sides().values().stream().anyMatch(s -> s.headline().latencyNs().getTotalCount() > 0)) {
      String latency = summary.scenario() + "-latency.png";
      BitmapEncoder.saveBitmap(latencyChart(summary), dir.resolve(latency).toString(), BitmapEncoder.BitmapFormat.PNG);
      files.add(latency);
    }
    String rounds = summary.scenario() + "-rounds.png";
    BitmapEncoder.saveBitmap(roundsChart(summary), dir.resolve(rounds).toString(), BitmapEncoder.BitmapFormat.PNG);
    files.add(rounds);
    return files;
  }

  static XYChart latencyChart(ScenarioSummary summary) {
    String measure = summary.sides().values().iterator().next().headline().name();
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
        .title(summary.scenario() + ": " + measure + " latency distribution")
        .xAxisTitle("percentile in nines (0 = p0, 1 = p90, 2 = p99, 3 = p99.9; 4 = max)")
        .yAxisTitle("latency ms").build();
    chart.getStyler().setMarkerSize(0);
    for (Map.Entry<Side, SideSummary> entry : summary.sides().entrySet()) {
      Measure m = entry.getValue().headline();
      if (m.latencyNs().getTotalCount() == 0) {
        continue;
      }
      List<Double> nines = new ArrayList<>();
      List<Double> ms = new ArrayList<>();
      for (HistogramIterationValue v : m.latencyNs().percentiles(5)) {
        double p = v.getPercentileLevelIteratedTo() / 100.0;
        if (p >= 0.9999) {
          break;
        }
        nines.add(-Math.log10(1 - p));
        ms.add(m.latencyNs().highestEquivalentValue(v.getValueIteratedTo()) / 1e6);
      }
      nines.add(4.0);
      ms.add(m.maxLatencyMs());
      chart.addSeries(entry.getKey().label(), nines, ms).setMarker(SeriesMarkers.NONE);
    }
    return chart;
  }

  static CategoryChart roundsChart(ScenarioSummary summary) {
    String measure = summary.sides().values().iterator().next().headline().name();
    CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
        .title(summary.scenario() + ": " + measure + " rate per round")
        .xAxisTitle("round").yAxisTitle(measure + " per second").build();
    for (Map.Entry<Side, SideSummary> entry : summary.sides().entrySet()) {
      List<Double> rates = entry.getValue().headlinePerRound();
      List<Integer> rounds = new ArrayList<>();
      for (int i = 1; i <= rates.size(); i++) {
        rounds.add(i);
      }
      chart.addSeries(entry.getKey().label(), rounds, rates);
    }
    return chart;
  }
}
