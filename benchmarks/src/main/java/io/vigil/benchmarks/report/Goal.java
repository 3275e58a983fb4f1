package io.vigil.benchmarks.report;

import java.util.List;

/**
 * The performance goal's yardstick (issue 6): on a measure, Vigil's rate must be at least
 * {@code minRateRatio} times etcd's and its p99 no worse than etcd's.
 */
public record Goal(String scenario, String measure, double minRateRatio, String note) {
  public static final List<Goal> ALL = List.of(
      new Goal("put", "put", 2.0, ""),
      new Goal("watch-fanout", "delivery", 3.0,
          "the rate is only a capacity ratio when writers are not paced (--watch-put-rate 0)"));

  public enum Verdict { MET, NOT_MET, NOT_MEASURED }

  public Verdict judge(double rateRatio, double p99Ratio) {
    if (Double.isNaN(rateRatio) || Double.isNaN(p99Ratio)) {
      return Verdict.NOT_MEASURED;
    }
    return rateRatio >= minRateRatio && p99Ratio <= 1.0 ? Verdict.MET : Verdict.NOT_MET;
  }
}
