package io.vigil.benchmarks;

import io.vigil.benchmarks.goload.GoCommands;
import io.vigil.benchmarks.goload.GoLoader;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.measure.ResourceUsage;
import io.vigil.benchmarks.measure.RoundResult;
import io.vigil.benchmarks.measure.Side;
import io.vigil.benchmarks.proc.ProcFs;
import io.vigil.benchmarks.proc.ResourceMonitor;
import io.vigil.benchmarks.scenario.Scenario;
import io.vigil.benchmarks.scenario.Scenarios;
import io.vigil.benchmarks.server.EtcdConnection;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Runs every chosen scenario against the servers: for each scenario, prepare on every side, then
 * rounds 1..n with the sides interleaved (A/B, B/A, ...; see {@link #sideOrder}), so slow drift
 * of a noisy machine hits both sides alike. A failure ends that scenario on that side only, and is reported.
 */
final class BenchRun {
  private final BenchConfig config;
  private final Servers servers;
  private final ProgressLine progress;
  private final ResourceMonitor serverMonitor;
  private final ResourceMonitor clientMonitor;
  private final String runId;
  /** etcd's Go tool, when --loader is go or both; null otherwise. */
  private final GoLoader goLoader;
  final List<RoundResult> rounds = new ArrayList<>();
  final Map<String, String> descriptions = new LinkedHashMap<>();
  final Map<String, Map<Side, String>> failures = new LinkedHashMap<>();

  BenchRun(BenchConfig config, Servers servers, ProgressLine progress, String runId)
      throws IOException, InterruptedException {
    this.config = config;
    this.servers = servers;
    this.progress = progress;
    this.runId = runId;
    ProcFs procFs = ProcFs.available() ? ProcFs.system() : null;
    this.serverMonitor = new ResourceMonitor(procFs, 100, true);
    // the client alone: a Vigil started by this JVM is its child
    this.clientMonitor = new ResourceMonitor(procFs, 100, false);
    this.goLoader = config.goLoader
        ? new GoLoader(GoLoader.resolve(config.goBenchmark), config, runId, procFs, serverMonitor) : null;
  }

  void runAll() throws InterruptedException {
    try {
      for (Side side : config.sides) {
        warmUp(side);
      }
      for (String name : config.scenarios) {
        runScenario(name);
      }
    } finally {
      serverMonitor.close();
      clientMonitor.close();
    }
  }

  private void runScenario(String name) throws InterruptedException {
    if (!config.javaLoader && !GoCommands.supports(name)) {
      progress.println(name + ": no Go equivalent, skipped (--loader go)");
      return;
    }
    Map<Side, Scenario> scenarios = new EnumMap<>(Side.class);
    Map<Side, EtcdConnection> connections = new EnumMap<>(Side.class);
    // sides the Go tool runs on: prepared (range reads the Java scenario's keys) and not failed yet
    Set<Side> goSides = EnumSet.noneOf(Side.class);
    try {
      for (Side side : config.sides) {
        Scenario scenario = Scenarios.create(name, config, runId);
        descriptions.put(name, scenario.describe());
        EtcdConnection connection = new EtcdConnection(servers.get(side).endpoint(),
            side == Side.VIGIL ? config.vigilWatchEndpoints : config.etcdWatchEndpoints, config.connections,
            config.rpcTimeoutMs, servers.security());
        connections.put(side, connection);
        progress.show(name + " · " + side.label() + " · preparing", null);
        if (attempt(name, side, () -> scenario.prepare(connection))) {
          scenarios.put(side, scenario);
          if (goLoader != null && GoCommands.supports(name)) {
            goSides.add(side);
            descriptions.put(GoLoader.label(name), goLoader.describe(name));
          }
        }
      }
      if (!config.javaLoader) {
        descriptions.remove(name);
      }
      // warm-up rounds (negative numbers) then measured ones, all interleaved the same way
      for (int round = 1 - config.warmupRounds; round <= config.rounds; round++) {
        for (Side side : sideOrder(config.sides, round)) {
          Scenario scenario = scenarios.get(side);
          if (config.javaLoader && scenario != null && !runRound(name, side, round, scenario, connections.get(side))) {
            scenarios.remove(side);
          }
          if (goSides.contains(side) && !runGoRound(name, side, round)) {
            goSides.remove(side);
          }
        }
      }
      scenarios.forEach((side, scenario) -> attempt(name, side, () -> scenario.finish(connections.get(side))));
    } finally {
      connections.values().forEach(EtcdConnection::close);
    }
  }

  /**
   * Unmeasured put load for {@code --server-warmup-ms}, so that a JVM server's JIT is warm before
   * the first measured round. Failures here are only printed: the scenarios report their own.
   */
  private void warmUp(Side side) throws InterruptedException {
    if (config.serverWarmupMs == 0) {
      return;
    }
    progress.show("warming up " + side.label() + " (" + config.serverWarmupMs + " ms of puts)", null);
    MeasurementWindow unmeasured = new MeasurementWindow(config.serverWarmupMs, 1, Long.MAX_VALUE,
        new MeasurementWindow.Listener() {
          @Override
          public void opened() {}

          @Override
          public void closed() {}
        });
    try (EtcdConnection connection = new EtcdConnection(servers.get(side).endpoint(), config.connections,
        config.rpcTimeoutMs, servers.security())) {
      Scenarios.create("put", config, runId + "w").runRound(connection, unmeasured);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      progress.println("warm-up of " + side.label() + " failed: " + e.getMessage());
    }
  }

  /**
   * Round 1 runs the sides in the given order, round 2 reversed, and so on (A/B, B/A, A/B, ...):
   * linear drift and any advantage of going first or second fall on both sides equally.
   */
  static List<Side> sideOrder(List<Side> sides, int round) {
    List<Side> order = new ArrayList<>(sides);
    if (round % 2 == 0) {
      Collections.reverse(order);
    }
    return order;
  }

  private boolean runRound(String name, Side side, int round, Scenario scenario, EtcdConnection connection)
      throws InterruptedException {
    long serverPid = servers.get(side).pid();
    Sampling sampling = new Sampling(serverPid);
    MeasurementWindow window = new MeasurementWindow(config.warmupMs, config.durationMs, config.maxOpsPerRound,
        sampling);
    boolean measured = round >= 1;
    String label = roundLabel(name, side, round);
    progress.show(label, window);
    List<Measure> measures = new ArrayList<>();
    boolean ok = attempt(name, side, () -> measures.addAll(scenario.runRound(connection, window)));
    window.close();
    progress.show("", null);
    if (!ok) {
      return false;
    }
    RoundResult result = new RoundResult(name, side, round, measures, sampling.server, sampling.client);
    if (measured) {
      rounds.add(result);
    }
    progress.println(summaryLine(label, result));
    return true;
  }

  /** One run of etcd's Go tool, right after the Java loader's round on the same side. */
  private boolean runGoRound(String name, Side side, int round) throws InterruptedException {
    String label = roundLabel(GoLoader.label(name), side, round);
    progress.show(label + " (" + GoLoader.tool(name) + ")", null);
    List<RoundResult> result = new ArrayList<>();
    boolean ok = attempt(GoLoader.label(name), side, () -> result.add(
        goLoader.runRound(name, side, round, servers.get(side).endpoint(), servers.get(side).pid())));
    progress.show("", null);
    if (ok) {
      if (round >= 1) {
        rounds.add(result.get(0));
      }
      progress.println(summaryLine(label, result.get(0)));
    }
    return ok;
  }

  private String roundLabel(String name, Side side, int round) {
    return round >= 1
        ? String.format(Locale.ROOT, "%-18s %-5s round %d/%d", name, side.label(), round, config.rounds)
        : String.format(Locale.ROOT, "%-18s %-5s warm-up round", name, side.label());
  }

  private static String summaryLine(String label, RoundResult result) {
    Measure m = result.primary();
    return String.format(Locale.ROOT, "%s  %,12.0f %s/s  p50 %7.2f ms  p99 %7.2f ms  errors %d  server CPU %.2f s",
        label, m.perSecond(), m.name(), m.latencyMs(50), m.latencyMs(99), m.errors(), result.server().cpuSeconds());
  }

  /** Runs a step; on failure records why for the report and returns false. */
  private boolean attempt(String name, Side side, Step step) {
    try {
      step.run();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (Exception e) {
      String why = e.getClass().getSimpleName() + ": " + e.getMessage();
      failures.computeIfAbsent(name, k -> new EnumMap<>(Side.class)).put(side, why);
      progress.println(name + " on " + side.label() + " failed: " + why);
      return false;
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  /** Samples the server's and this client's process trees while a window is open. */
  private final class Sampling implements MeasurementWindow.Listener {
    private final long serverPid;
    ResourceUsage server = ResourceUsage.UNKNOWN;
    ResourceUsage client = ResourceUsage.UNKNOWN;

    Sampling(long serverPid) {
      this.serverPid = serverPid;
    }

    @Override
    public void opened() {
      serverMonitor.start(serverPid);
      clientMonitor.start(ProcessHandle.current().pid());
    }

    @Override
    public void closed() {
      server = serverMonitor.stop();
      client = clientMonitor.stop();
    }
  }
}
