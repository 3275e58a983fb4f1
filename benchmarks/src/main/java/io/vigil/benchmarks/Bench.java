package io.vigil.benchmarks;

import io.vigil.benchmarks.measure.Side;
import io.vigil.benchmarks.proc.ProcFs;
import io.vigil.benchmarks.report.ResultFiles;
import io.vigil.benchmarks.report.RunInfo;
import io.vigil.benchmarks.server.Readiness;
import io.vigil.benchmarks.server.ServerHandle;
import java.io.IOException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Entry point of {@code benchmarks/run}: parses flags, starts (or connects to) Vigil and etcd,
 * runs the scenarios with interleaved rounds, and writes the results folder.
 * Exit status: 0 when every scenario ran on every side, 1 when some failed, 2 on bad flags.
 */
public final class Bench {
  private Bench() {}

  public static void main(String[] args) throws Exception {
    System.setProperty("java.awt.headless", "true");
    if (BenchConfig.wantsHelp(args)) {
      System.out.print(BenchConfig.help());
      return;
    }
    ZonedDateTime started = ZonedDateTime.now();
    BenchConfig config;
    try {
      config = BenchConfig.fromArgs(args, ThreadLocalRandom.current().nextLong(),
          started.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    } catch (IllegalArgumentException e) {
      System.err.println("benchmarks/run: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(run(config, args, started));
  }

  static int run(BenchConfig config, String[] args, ZonedDateTime started) throws Exception {
    System.err.println("seed " + config.seed + ", results in " + config.resultsDir);
    String runId = Long.toHexString(config.seed & 0xffffffL);
    try (ProgressLine progress = new ProgressLine(System.err, System.console() != null)) {
      progress.show("starting servers (" + config.sides + ")", null);
      try (Servers servers = Servers.start(config, config.resultsDir)) {
        Thread stopOnExit = new Thread(servers::close, "stop-servers");
        Runtime.getRuntime().addShutdownHook(stopOnExit);
        Map<Side, String> serverFacts = describeServers(config, servers);
        serverFacts.forEach((side, text) -> progress.println(side.label() + ": " + text));
        BenchRun run = new BenchRun(config, servers, progress, runId);
        run.runAll();
        RunInfo info = new RunInfo(started.toOffsetDateTime().toString(), "benchmarks/run " + String.join(" ", args),
            Machine.describe(), config.seed, config.rounds, config.warmupRounds, config.durationMs, config.warmupMs, config.serverWarmupMs,
            serverFacts, run.descriptions, run.failures);
        Path report = ResultFiles.write(config.resultsDir, info, run.rounds, true);
        progress.println("report: " + report);
        Runtime.getRuntime().removeShutdownHook(stopOnExit);
        return run.failures.isEmpty() ? 0 : 1;
      }
    }
  }

  private static Map<Side, String> describeServers(BenchConfig config, Servers servers) {
    Map<Side, String> facts = new EnumMap<>(Side.class);
    for (Side side : config.sides) {
      ServerHandle server = servers.get(side);
      facts.put(side, server.origin() + ", endpoint " + server.endpoint() + ", version "
          + Readiness.version(server.endpoint(), servers.security())
          + (config.secure ? ", TLS and auth (simple token) on" : "") + idleRss(server.pid()));
    }
    return facts;
  }

  /**
   * The server's RSS before this run loads it: a JVM's fixed cost shows here (the peaks of the
   * report include it), for reading a peak as what the load added beyond it.
   */
  private static String idleRss(long pid) {
    if (pid < 0 || !ProcFs.available()) {
      return "";
    }
    try {
      long bytes = ProcFs.system().sampleTree(pid).rssBytes();
      return String.format(Locale.ROOT, ", RSS before this run's load %.0f MiB", bytes / 1048576.0);
    } catch (IOException gone) {
      return "";
    }
  }
}
