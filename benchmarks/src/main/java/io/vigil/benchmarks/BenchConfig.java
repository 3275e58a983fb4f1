package io.vigil.benchmarks;

import io.vigil.benchmarks.goload.GoCommands;
import io.vigil.benchmarks.measure.Side;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The whole run's configuration, parsed and validated in one place ({@link #fromArgs}). Every
 * flag, its default and its {@code --quick} default are in {@link #FLAGS}; {@code --help} and the
 * README's flag table come from it.
 */
public final class BenchConfig {
  /** Scenario names in run order; {@code range} expands to both consistency levels. */
  public static final List<String> SCENARIOS = List.of(
      "put", "range-linearizable", "range-serializable", "txn-put",
      "watch-fanout", "watch-catchup", "lease-keepalive", "mixed");
  /**
   * Scenarios run only when named: a round of lease-expiry takes minutes (etcd revokes 1000
   * leases/s); snapshot-save and defrag write a large store first; json-put and json-range
   * measure the JSON gateway (issue 19), apart from the gRPC rows.
   */
  public static final List<String> OPT_IN_SCENARIOS = List.of("lease-expiry", "snapshot-save", "defrag", "json-put",
      "json-range");

  static final List<Flag> FLAGS = List.of(
      Flag.of("scenarios", "put,range,txn-put,watch-fanout,watch-catchup,lease-keepalive,mixed",
          "comma-separated: put, range (= range-linearizable,range-serializable), txn-put, watch-fanout, "
              + "watch-catchup, lease-keepalive, mixed; lease-expiry, snapshot-save, defrag, json-put and json-range "
              + "(the JSON gateway over HTTP/1.1) only when named"),
      Flag.of("loader", "java", "load generator: java (the harness's grpc-java client), go (etcd's Go benchmark tool; "
          + "only put, range, txn-put and watch-fanout; wrk for json-put and json-range; the others are skipped) or both (Go after Java, each round and side)"),
      Flag.of("go-benchmark", null, "launcher of etcd's Go benchmark tool, asked once for the binary with `path` "
          + "(default <repo>/../shared/tools/etcd-benchmark)"),
      Flag.of("sides", "vigil,etcd", "servers to measure, in round order: vigil, etcd or both"),
      Flag.quick("rounds", "3", "2", "measured rounds per side; sides interleave A/B, B/A, A/B, ..."),
      Flag.quick("duration-ms", "10000", "800", "measured time of one round"),
      Flag.quick("warmup-ms", "2000", "200", "unmeasured load before each round"),
      Flag.quick("warmup-rounds", "1", "0",
          "unmeasured whole rounds per side and scenario before the measured ones (the client's and a JVM server's JIT)"),
      Flag.quick("server-warmup-ms", "10000", "1000",
          "unmeasured put load on each server before the first scenario (JIT warm-up of a JVM server)"),
      Flag.of("max-ops-per-round", "10000000", "a round also ends after this many operations"),
      Flag.of("rpc-timeout-ms", "10000", "deadline of every unary request"),
      Flag.quick("drain-ms", "5000", "2000", "how long a watch round waits for in-flight events"),
      Flag.of("seed", null, "random seed for keys and lease choice (default: random, printed)"),
      Flag.of("results-dir", null, "where the report goes (default <repo>/benchmarks/results/<timestamp>)"),
      Flag.of("repo-dir", ".", "the Vigil checkout (benchmarks/run sets it)"),
      Flag.of("vigil-endpoint", null, "HOST:PORT of a running Vigil; default: start one with --vigil-launcher"),
      Flag.of("vigil-pid", "-1", "pid of the running Vigil at --vigil-endpoint, for CPU/RSS"),
      Flag.of("vigil-launcher", null, "default <repo>/bin/vigil; started as: serve --data-dir D "
          + "--listen-client-urls U --advertise-client-urls U"),
      Flag.of("vigil-watch-endpoints", null, "HOST:PORT,... where watch-fanout opens its streams, round-robin "
          + "(e.g. every member of a cluster); default: --vigil-endpoint. Puts still go to --vigil-endpoint"),
      Flag.of("etcd-endpoint", null, "HOST:PORT of a running etcd; default: start one with --etcd-launcher"),
      Flag.of("etcd-pid", "-1", "pid of the running etcd at --etcd-endpoint, for CPU/RSS"),
      Flag.of("etcd-watch-endpoints", null, "HOST:PORT,... where watch-fanout opens its streams on the etcd side; "
          + "default: --etcd-endpoint"),
      Flag.of("etcd-launcher", null, "default <repo>/../shared/tools/reference-etcd (start PORT / stop PORT)"),
      Flag.of("server-start-timeout-ms", "600000", "how long a started server may take to answer"),
      Flag.quick("clients", "64", "16", "put/range/txn-put: requests in flight (closed loop)"),
      Flag.quick("connections", "4", "2", "gRPC connections (HTTP/2) per side and scenario"),
      Flag.of("key-size-bytes", "32", "key length (prefix + zero-padded index)"),
      Flag.of("value-size-bytes", "256", "put/txn-put/watch value length"),
      Flag.quick("key-space", "100000", "2000", "distinct keys; range pre-fills all of them"),
      Flag.of("range-keys-per-op", "1", "range: keys read per request"),
      Flag.of("txn-ops", "1", "txn-put: puts (distinct keys) per txn"),
      Flag.quick("watchers", "1000", "200", "watch-fanout: watchers in total"),
      Flag.quick("watch-streams", "10", "4", "watch-fanout: watch streams the watchers share"),
      Flag.of("watch-keys", "10", "watch-fanout: distinct keys watched; watcher i watches key i mod this"),
      Flag.of("watch-writers", "2", "watch-fanout: concurrent writers"),
      Flag.quick("watch-put-rate", "200", "100",
          "watch-fanout: puts per second, all writers together; 0 = as fast as the writers go (capacity)"),
      Flag.of("watch-prev-kv", "false",
          "watch-fanout and mixed: watchers ask for prev_kv, as the Kubernetes API server's watches do (true or false; the Go tool's watches never do)"),
      Flag.quick("catchup-events", "50000", "3000", "watch-catchup: events written before, replayed each round"),
      Flag.quick("catchup-watchers", "4", "2", "watch-catchup: watchers replaying at once"),
      Flag.quick("leases", "1000", "200", "lease-keepalive: leases kept alive"),
      Flag.quick("keepalive-streams", "16", "4", "lease-keepalive: keep-alive streams, one request in flight each"),
      Flag.of("lease-ttl-s", "600", "lease-keepalive: lease TTL; longer than the whole run, so that no lease expires while the other side's rounds run"),
      Flag.quick("expiry-leases", "100000", "2000", "lease-expiry: leases (one key each) expiring together each round"),
      Flag.quick("expiry-ttl-s", "60", "10", "lease-expiry: their TTL; must cover granting them all"),
      Flag.quick("mixed-resources", "10", "4", "mixed: resource types (key prefixes)"),
      Flag.quick("mixed-objects", "500", "100", "mixed: objects per resource, pre-filled"),
      Flag.quick("mixed-informers", "50", "10", "mixed: informers (list, then watch from the list revision)"),
      Flag.quick("mixed-put-rate", "500", "200", "mixed: object updates per second (at most --clients in flight)"),
      Flag.of("mixed-value-size-bytes", "1024", "mixed: object size"),
      Flag.of("mixed-list-page", "500", "mixed: list page size (limit), as Kubernetes pages"),
      Flag.quick("maintenance-mb", "256", "16", "snapshot-save, defrag: size of the data set, in MB of 4 KiB values"));

  public final boolean quick;
  /** TLS and auth on both servers, which the harness then starts itself (see Servers). */
  public final boolean secure;
  public final List<String> scenarios;
  public final List<Side> sides;
  /** Which loaders run each round (--loader): the harness's Java client, etcd's Go tool, or both. */
  public final boolean javaLoader;
  public final boolean goLoader;
  public final Path goBenchmark;
  public final int rounds;
  public final long durationMs;
  public final long warmupMs;
  public final long serverWarmupMs;
  public final int warmupRounds;
  public final long maxOpsPerRound;
  public final long rpcTimeoutMs;
  public final long drainMs;
  public final long seed;
  public final Path repoDir;
  public final Path resultsDir;
  public final String vigilEndpoint;
  public final long vigilPid;
  public final Path vigilLauncher;
  public final String etcdEndpoint;
  /** Where watch-fanout's streams go, per side; empty: the side's endpoint. */
  public final List<String> vigilWatchEndpoints;
  public final List<String> etcdWatchEndpoints;
  public final long etcdPid;
  public final Path etcdLauncher;
  public final long serverStartTimeoutMs;
  public final int clients;
  public final int connections;
  public final int keySizeBytes;
  public final int valueSizeBytes;
  public final int keySpace;
  public final int rangeKeysPerOp;
  public final int txnOps;
  public final int watchers;
  public final int watchStreams;
  public final int watchKeys;
  public final int watchWriters;
  public final int watchPutRate;
  public final boolean watchPrevKv;
  public final int catchupEvents;
  public final int catchupWatchers;
  public final int leases;
  public final int keepaliveStreams;
  public final int leaseTtlS;
  public final int expiryLeases;
  public final int expiryTtlS;
  public final int mixedResources;
  public final int mixedObjects;
  public final int mixedInformers;
  public final int mixedPutRate;
  public final int mixedValueSizeBytes;
  public final int mixedListPage;
  public final int maintenanceMb;
  /** Flag values as given or defaulted, for the report. */
  public final Map<String, String> values;

  private BenchConfig(Values v, long defaultSeed, String timestamp) {
    quick = v.quick;
    secure = v.secure;
    scenarios = expandScenarios(v.string("scenarios"));
    sides = parseSides(v.string("sides"));
    String loader = v.string("loader").trim();
    check(List.of("java", "go", "both").contains(loader), "--loader must be java, go or both, got " + loader);
    javaLoader = !loader.equals("go");
    goLoader = !loader.equals("java");
    rounds = v.intAtLeast("rounds", 1);
    durationMs = v.longAtLeast("duration-ms", 100);
    warmupMs = v.longAtLeast("warmup-ms", 0);
    serverWarmupMs = v.longAtLeast("server-warmup-ms", 0);
    warmupRounds = (int) v.longAtLeast("warmup-rounds", 0);
    maxOpsPerRound = v.longAtLeast("max-ops-per-round", 1);
    rpcTimeoutMs = v.longAtLeast("rpc-timeout-ms", 100);
    drainMs = v.longAtLeast("drain-ms", 0);
    seed = v.isSet("seed") ? v.parse("seed", Long::parseLong) : defaultSeed;
    repoDir = Path.of(v.string("repo-dir")).toAbsolutePath().normalize();
    resultsDir = v.isSet("results-dir") ? Path.of(v.string("results-dir")).toAbsolutePath()
        : repoDir.resolve("benchmarks/results").resolve(timestamp);
    vigilEndpoint = v.endpoint("vigil-endpoint");
    vigilPid = v.longAtLeast("vigil-pid", -1);
    vigilLauncher = v.isSet("vigil-launcher") ? Path.of(v.string("vigil-launcher")) : repoDir.resolve("bin/vigil");
    etcdEndpoint = v.endpoint("etcd-endpoint");
    vigilWatchEndpoints = v.endpoints("vigil-watch-endpoints");
    etcdWatchEndpoints = v.endpoints("etcd-watch-endpoints");
    etcdPid = v.longAtLeast("etcd-pid", -1);
    goBenchmark = v.isSet("go-benchmark") ? Path.of(v.string("go-benchmark"))
        : repoDir.resolve("../shared/tools/etcd-benchmark").normalize();
    etcdLauncher = v.isSet("etcd-launcher") ? Path.of(v.string("etcd-launcher"))
        : repoDir.resolve("../shared/tools/reference-etcd").normalize();
    serverStartTimeoutMs = v.longAtLeast("server-start-timeout-ms", 1000);
    clients = v.intAtLeast("clients", 1);
    connections = v.intAtLeast("connections", 1);
    keySizeBytes = v.intAtLeast("key-size-bytes", 1);
    valueSizeBytes = v.intAtLeast("value-size-bytes", 16); // watch values carry a 16-byte timestamp
    keySpace = v.intAtLeast("key-space", 1);
    rangeKeysPerOp = v.intAtLeast("range-keys-per-op", 1);
    txnOps = v.intAtLeast("txn-ops", 1);
    watchers = v.intAtLeast("watchers", 1);
    watchStreams = v.intAtLeast("watch-streams", 1);
    watchKeys = v.intAtLeast("watch-keys", 1);
    watchWriters = v.intAtLeast("watch-writers", 1);
    watchPutRate = v.intAtLeast("watch-put-rate", 0);
    String prevKv = v.string("watch-prev-kv");
    check(prevKv.equals("true") || prevKv.equals("false"), "--watch-prev-kv: true or false, got " + prevKv);
    watchPrevKv = Boolean.parseBoolean(prevKv);
    catchupEvents = v.intAtLeast("catchup-events", 1);
    catchupWatchers = v.intAtLeast("catchup-watchers", 1);
    leases = v.intAtLeast("leases", 1);
    keepaliveStreams = v.intAtLeast("keepalive-streams", 1);
    leaseTtlS = v.intAtLeast("lease-ttl-s", 5);
    expiryLeases = v.intAtLeast("expiry-leases", 1);
    expiryTtlS = v.intAtLeast("expiry-ttl-s", 5);
    mixedResources = v.intAtLeast("mixed-resources", 1);
    mixedObjects = v.intAtLeast("mixed-objects", 1);
    mixedInformers = v.intAtLeast("mixed-informers", 1);
    mixedPutRate = v.intAtLeast("mixed-put-rate", 1);
    mixedValueSizeBytes = v.intAtLeast("mixed-value-size-bytes", 16);
    mixedListPage = v.intAtLeast("mixed-list-page", 1);
    maintenanceMb = v.intAtLeast("maintenance-mb", 1);
    check(rangeKeysPerOp <= keySpace, "--range-keys-per-op " + rangeKeysPerOp + " exceeds --key-space " + keySpace);
    check(txnOps <= keySpace, "--txn-ops " + txnOps + " exceeds --key-space " + keySpace);
    check(watchKeys <= watchers, "--watch-keys " + watchKeys + " exceeds --watchers " + watchers);
    check(watchStreams <= watchers, "--watch-streams " + watchStreams + " exceeds --watchers " + watchers);
    check(!secure || (vigilEndpoint == null && etcdEndpoint == null),
        "--secure starts both servers itself (it makes their certificates and users); drop --vigil-endpoint/--etcd-endpoint");
    check(!secure || scenarios.stream().noneMatch(n -> n.startsWith("json-")),
        "--secure: json-put and json-range speak plaintext HTTP/1.1 without a token; drop them or --secure");
    check(!goLoader || !secure, "--loader " + loader + " with --secure: the Go tool's put and watch keys are binary, "
        + "outside the bench user's vb/ range; use benchmarks/go-secure");
    check(javaLoader || scenarios.stream().anyMatch(GoCommands::supports),
        "--loader go: none of " + scenarios + " has a Go equivalent (" + new TreeSet<>(GoCommands.SUBCOMMANDS.keySet()) + ")");
    check(keepaliveStreams <= leases, "--keepalive-streams " + keepaliveStreams + " exceeds --leases " + leases);
    values = v.effective();
  }

  /** Parses and validates; throws IllegalArgumentException naming the offending flag. */
  public static BenchConfig fromArgs(String[] args, long defaultSeed, String timestamp) {
    Map<String, String> given = CommandLine.parse(args, FLAGS);
    return new BenchConfig(new Values(given), defaultSeed, timestamp);
  }

  public static boolean wantsHelp(String[] args) {
    return List.of(args).contains("--help") || List.of(args).contains("-h");
  }

  public static String help() {
    return CommandLine.help(FLAGS);
  }

  static List<String> expandScenarios(String list) {
    LinkedHashSet<String> chosen = new LinkedHashSet<>();
    for (String raw : list.split(",")) {
      String name = raw.trim();
      if (name.equals("range")) {
        chosen.add("range-linearizable");
        chosen.add("range-serializable");
      } else if (SCENARIOS.contains(name) || OPT_IN_SCENARIOS.contains(name)) {
        chosen.add(name);
      } else if (!name.isEmpty()) {
        throw new IllegalArgumentException("--scenarios: unknown scenario '" + name + "' (known: range, "
            + String.join(", ", SCENARIOS) + ", " + String.join(", ", OPT_IN_SCENARIOS) + ")");
      }
    }
    check(!chosen.isEmpty(), "--scenarios is empty");
    return List.copyOf(chosen);
  }

  private static List<Side> parseSides(String list) {
    List<Side> sides = new ArrayList<>();
    for (String name : list.split(",")) {
      Side side = Side.fromLabel(name.trim());
      check(!sides.contains(side), "--sides names " + name + " twice");
      sides.add(side);
    }
    return List.copyOf(sides);
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Given values over defaults, with typed and range-checked access. */
  private static final class Values {
    private final Map<String, String> given;
    private final boolean quick;
    private final boolean secure;
    private final Map<String, String> effective = new TreeMap<>();

    Values(Map<String, String> given) {
      this.given = given;
      this.quick = Boolean.parseBoolean(given.getOrDefault("quick", "false"));
      this.secure = Boolean.parseBoolean(given.getOrDefault("secure", "false"));
    }

    boolean isSet(String name) {
      return string(name) != null;
    }

    String string(String name) {
      Flag flag = FLAGS.stream().filter(f -> f.name().equals(name)).findFirst()
          .orElseThrow(() -> new IllegalStateException("no flag " + name));
      String value = given.containsKey(name) ? given.get(name) : flag.defaultFor(quick);
      if (value != null) {
        effective.put(name, value);
      }
      return value;
    }

    <T> T parse(String name, Function<String, T> parser) {
      String value = string(name);
      try {
        return parser.apply(value.trim());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("--" + name + ": cannot read '" + value + "'");
      }
    }

    long longAtLeast(String name, long min) {
      long value = parse(name, Long::parseLong);
      check(value >= min, "--" + name + " must be >= " + min + ", got " + value);
      return value;
    }

    int intAtLeast(String name, int min) {
      int value = parse(name, Integer::parseInt);
      check(value >= min, "--" + name + " must be >= " + min + ", got " + value);
      return value;
    }

    String endpoint(String name) {
      String value = string(name);
      if (value == null) {
        return null;
      }
      String hostPort = value.replaceFirst("^https?://", "");
      check(hostPort.matches("[^:/]+:\\d+"), "--" + name + " must be HOST:PORT, got " + value);
      return hostPort;
    }

    List<String> endpoints(String name) {
      String value = string(name);
      if (value == null) {
        return List.of();
      }
      List<String> out = new ArrayList<>();
      for (String one : value.split(",")) {
        String hostPort = one.trim().replaceFirst("^https?://", "");
        check(hostPort.matches("[^:/]+:\\d+"), "--" + name + " must be HOST:PORT,..., got " + value);
        out.add(hostPort);
      }
      return List.copyOf(out);
    }

    Map<String, String> effective() {
      if (quick) {
        effective.put("quick", "true");
      }
      if (secure) {
        effective.put("secure", "true");
      }
      return Map.copyOf(effective);
    }
  }
}
