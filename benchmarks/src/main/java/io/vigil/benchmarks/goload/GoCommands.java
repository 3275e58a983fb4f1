package io.vigil.benchmarks.goload;

import io.vigil.benchmarks.BenchConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The command line of etcd's Go load generator (etcd 3.4 tools/benchmark) for each harness
 * scenario that has a Go equivalent, with the scenario's shape taken from the same flags the Java
 * loader uses. Pure: same config, same arguments.
 */
public final class GoCommands {
  /** Harness scenario → the Go tool's subcommand; scenarios not here have no Go equivalent. */
  public static final Map<String, String> SUBCOMMANDS = Map.of(
      "put", "put",
      "range-linearizable", "range",
      "range-serializable", "range",
      "txn-put", "txn-put",
      "watch-fanout", "watch");
  /** The Go watch tool's --put-rate 0 lets one put through and then fails; this is "unpaced". */
  static final long UNPACED_PUT_RATE = 1_000_000_000L;

  private GoCommands() {}

  /** Whether the second loader runs {@code scenario}: the Go tool, or wrk for the JSON scenarios ({@link Wrk}). */
  public static boolean supports(String scenario) {
    return SUBCOMMANDS.containsKey(scenario) || Wrk.supports(scenario);
  }

  /**
   * Global flags, then the subcommand and its flags. {@code total} is the requests of the run
   * (put, range, txn-put) or the puts of a watch run; {@code rangeKey}/{@code rangeEnd} are the
   * first key a range reads and the end of its span (null for a single key).
   */
  public static List<String> args(String scenario, BenchConfig config, String endpoint, long total,
      String rangeKey, String rangeEnd) {
    List<String> args = new ArrayList<>();
    args.add("--endpoints=" + endpoint);
    // --precise: %g instead of %4.4f, so sub-100 µs latencies are not printed as 0.0000
    args.add("--precise");
    switch (scenario) {
      case "put" -> {
        closedLoop(args, config);
        args.addAll(List.of("put", "--total=" + total, "--key-size=" + config.keySizeBytes,
            "--val-size=" + config.valueSizeBytes, "--key-space-size=" + config.keySpace));
      }
      case "range-linearizable", "range-serializable" -> {
        closedLoop(args, config);
        args.add("range");
        args.add(rangeKey);
        if (rangeEnd != null) {
          args.add(rangeEnd);
        }
        args.add("--consistency=" + (scenario.equals("range-linearizable") ? "l" : "s"));
        args.add("--total=" + total);
      }
      case "txn-put" -> {
        closedLoop(args, config);
        args.addAll(List.of("txn-put", "--total=" + total, "--txn-ops=" + config.txnOps,
            "--key-size=" + config.keySizeBytes, "--val-size=" + config.valueSizeBytes,
            "--key-space-size=" + config.keySpace));
      }
      case "watch-fanout" -> {
        // one writer per Go client; the streams are spread over the clients' connections
        args.add("--clients=" + config.watchWriters);
        args.add("--conns=" + Math.min(config.connections, config.watchWriters));
        args.addAll(List.of("watch", "--streams=" + config.watchStreams,
            "--watch-per-stream=" + watchersPerStream(config), "--watched-key-total=" + config.watchKeys,
            "--sequential-keys", "--key-space-size=" + config.watchKeys, "--key-size=" + config.keySizeBytes,
            "--put-total=" + total,
            "--put-rate=" + (config.watchPutRate > 0 ? config.watchPutRate : UNPACED_PUT_RATE)));
      }
      default -> throw new IllegalArgumentException("scenario '" + scenario + "' has no Go equivalent");
    }
    return List.copyOf(args);
  }

  private static void closedLoop(List<String> args, BenchConfig config) {
    args.add("--clients=" + config.clients);
    args.add("--conns=" + config.connections);
  }

  /** The Go tool gives every stream the same number of watchers: --watchers rounded down. */
  public static int watchersPerStream(BenchConfig config) {
    return config.watchers / config.watchStreams;
  }

  /** Events one Go watch run delivers per put: watcher i watches key i mod K, puts cycle the keys. */
  static double eventsPerPut(BenchConfig config) {
    return (double) watchersPerStream(config) * config.watchStreams / config.watchKeys;
  }

  /**
   * The size of a round that lasts about {@code durationMs} at {@code ratePerSecond}, at least
   * {@code min} and at most {@code max} (the Go tool stops after a count, not after a time).
   */
  static long total(double ratePerSecond, long durationMs, long min, long max) {
    long wanted = Math.round(ratePerSecond * durationMs / 1000.0);
    return Math.max(min, Math.min(max, wanted));
  }
}
