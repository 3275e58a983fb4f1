package io.vigil.benchmarks.scenario;

import io.vigil.benchmarks.BenchConfig;

/** Creates scenarios by name. Keys live under {@code vb/RUN/NAME/}, so runs never collide. */
public final class Scenarios {
  private Scenarios() {}

  public static Scenario create(String name, BenchConfig config, String runId) {
    String prefix = prefix(name, runId);
    return switch (name) {
      case "put" -> new PutScenario(config, prefix);
      case "range-linearizable" -> new RangeScenario(config, prefix, false);
      case "range-serializable" -> new RangeScenario(config, prefix, true);
      case "txn-put" -> new TxnPutScenario(config, prefix);
      case "watch-fanout" -> new WatchFanoutScenario(config, prefix);
      case "watch-catchup" -> new WatchCatchupScenario(config, prefix);
      case "lease-keepalive" -> new LeaseKeepaliveScenario(config);
      case "lease-expiry" -> new LeaseExpiryScenario(config, prefix);
      case "mixed" -> new MixedScenario(config, prefix);
      case "snapshot-save" -> new SnapshotSaveScenario(config, prefix);
      case "defrag" -> new DefragScenario(config, prefix);
      case "json-put" -> new JsonScenario(config, prefix, true);
      case "json-range" -> new JsonScenario(config, prefix, false);
      default -> throw new IllegalArgumentException("scenario '" + name + "' is not built yet");
    };
  }

  /** Where scenario {@code name} of run {@code runId} keeps its keys. */
  public static String prefix(String name, String runId) {
    return "vb/" + runId + "/" + shortName(name) + "/";
  }

  private static String shortName(String name) {
    return switch (name) {
      case "range-linearizable" -> "rl";
      case "range-serializable" -> "rs";
      case "watch-fanout" -> "wf";
      case "watch-catchup" -> "wc";
      case "txn-put" -> "tx";
      case "lease-expiry" -> "lx";
      case "snapshot-save" -> "ss";
      case "defrag" -> "df";
      case "json-put" -> "jp";
      case "json-range" -> "jr";
      default -> name.substring(0, Math.min(3, name.length()));
    };
  }
}
