package io.vigil.benchmarks.goload;

import io.vigil.benchmarks.measure.Measure;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * Reads what etcd's Go load generator prints (its pkg/report): one or more summaries, each
 * optionally titled by a preceding "... summary:" line (the watch tool prints "Watch creation
 * summary:" and "Watch events received summary:"), with Total, Slowest, Fastest, Average,
 * Requests/sec, a latency distribution ("99% in 0.0012 secs.") and an error distribution
 * ("[3]\tmessage"). Progress-bar lines and the response-time histogram are ignored.
 */
public final class GoOutput {
  private static final Pattern FIELD = Pattern.compile("^\\s*(Total|Slowest|Fastest|Average|Stddev):\\s*(\\S+) secs\\.\\s*$");
  private static final Pattern RPS = Pattern.compile("^\\s*Requests/sec:\\s*(\\S+)\\s*$");
  private static final Pattern PERCENTILE = Pattern.compile("^\\s*([0-9.]+)% in (\\S+) secs\\.\\s*$");
  private static final Pattern ERROR = Pattern.compile("^\\s*\\[(\\d+)\\]\\s+(.*)$");
  private static final Pattern TITLE = Pattern.compile("^\\s*(.*\\S)\\s+summary:\\s*$");

  /** One pkg/report summary; seconds as printed, {@code percentiles} percent → seconds. */
  public record Summary(String title, double totalSeconds, double slowestSeconds, double requestsPerSecond,
      SortedMap<Double, Double> percentiles, long errors, String firstError) {

    /** Completed requests: pkg/report prints Requests/sec = completed / Total. */
    public long count() {
      return Math.round(requestsPerSecond * totalSeconds);
    }

    /**
     * This summary as a harness measure. The tool prints only eight percentiles, so the
     * histogram is rebuilt from them (and the slowest): p10..p99.9 and max are exact, values in
     * between are steps. Without {@code withLatency} the histogram stays empty (shown as "–"),
     * for summaries whose latency is not the quantity the name suggests.
     */
    public Measure toMeasure(String name, boolean withLatency) {
      long count = count();
      if (count == 0 && errors > 0) {
        throw new IllegalStateException("all " + errors + " " + name + " requests failed; first error: " + firstError);
      }
      Histogram histogram = Measure.newHistogram();
      if (withLatency && count > 0) {
        // pkg/report's p-th percentile is the value at sorted index ceil(p% of count): that many lie
        // below it. The slowest keeps at least one value, so that max stays exact.
        long recorded = 0;
        for (Map.Entry<Double, Double> p : percentiles.entrySet()) {
          long upTo = Math.min(count - 1, (long) Math.ceil(count * p.getKey() / 100.0 - 1e-9));
          if (upTo > recorded) {
            histogram.recordValueWithCount(nanos(p.getValue()), upTo - recorded);
            recorded = upTo;
          }
        }
        histogram.recordValueWithCount(nanos(slowestSeconds), count - recorded);
      }
      return new Measure(name, count, errors, nanos(totalSeconds), histogram);
    }

    private static long nanos(double seconds) {
      return Math.max(0, Math.round(seconds * 1e9));
    }
  }

  private GoOutput() {}

  public static List<Summary> parse(String output) {
    List<Summary> summaries = new ArrayList<>();
    Builder current = null;
    String title = "";
    for (String line : output.split("[\r\n]+")) {
      Matcher m;
      if ((m = TITLE.matcher(line)).matches()) {
        title = m.group(1);
      } else if (line.trim().equals("Summary:") || (line.trim().equals("Error distribution:") && current == null)) {
        if (current != null) {
          summaries.add(current.build());
        }
        current = new Builder(title);
        title = "";
      } else if (current == null) {
        continue;
      } else if ((m = FIELD.matcher(line)).matches()) {
        double seconds = number(m.group(2), line);
        switch (m.group(1)) {
          case "Total" -> current.totalSeconds = seconds;
          case "Slowest" -> current.slowestSeconds = seconds;
          default -> { }
        }
      } else if ((m = RPS.matcher(line)).matches()) {
        current.requestsPerSecond = number(m.group(1), line);
      } else if ((m = PERCENTILE.matcher(line)).matches()) {
        current.percentiles.put(number(m.group(1), line), number(m.group(2), line));
      } else if ((m = ERROR.matcher(line)).matches()) {
        current.errors += Long.parseLong(m.group(1));
        if (current.firstError == null) {
          current.firstError = m.group(2).trim();
        }
      }
    }
    if (current != null) {
      summaries.add(current.build());
    }
    return summaries;
  }

  /** The summary titled {@code title} ("" for an untitled one); fails naming what was printed. */
  public static Summary find(List<Summary> summaries, String title, String output) {
    return summaries.stream().filter(s -> s.title().equals(title)).findFirst().orElseThrow(() ->
        new IllegalStateException("etcd's Go benchmark printed no " + (title.isEmpty() ? "" : "'" + title + "' ")
            + "summary; its output ends: " + tail(output)));
  }

  static String tail(String output) {
    String flat = output.replaceAll("[\r\n]+", " | ").trim();
    return flat.length() <= 400 ? flat : "..." + flat.substring(flat.length() - 400);
  }

  private static double number(String text, String line) {
    try {
      return Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("cannot read a number in the Go benchmark's line: " + line);
    }
  }

  private static final class Builder {
    final String title;
    double totalSeconds;
    double slowestSeconds;
    double requestsPerSecond;
    final Map<Double, Double> percentiles = new TreeMap<>();
    long errors;
    String firstError;

    Builder(String title) {
      this.title = title;
    }

    Summary build() {
      return new Summary(title, totalSeconds, slowestSeconds, requestsPerSecond, Collections.unmodifiableSortedMap(new TreeMap<>(percentiles)), errors,
          firstError);
    }
  }
}
