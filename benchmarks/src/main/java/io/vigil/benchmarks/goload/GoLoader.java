package io.vigil.benchmarks.goload;

import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.ResourceUsage;
import io.vigil.benchmarks.measure.RoundResult;
import io.vigil.benchmarks.measure.Side;
import io.vigil.benchmarks.proc.ProcFs;
import io.vigil.benchmarks.proc.ResourceMonitor;
import io.vigil.benchmarks.scenario.Keys;
import io.vigil.benchmarks.scenario.Scenarios;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The second load generator: one run of etcd's Go tool (wrk for the JSON scenarios, {@link Wrk}) per round and side, with the server's
 * CPU from /proc over the tool's run and the tool's own CPU. The tool stops after a count, so
 * each round's size is the previous round's rate (same scenario and side) times --duration-ms.
 * Invariant for the client CPU: while a round runs, the Go tool is the only child this JVM
 * reaps, so the growth of this JVM's cutime + cstime is the tool's CPU.
 */
public final class GoLoader {
  /** Requests/s assumed before a side's first round of a scenario (a warm-up round, unless there are none). */
  static final double FIRST_GUESS_PER_SECOND = 1000;
  /** Puts/s assumed likewise for an unpaced watch round (--watch-put-rate 0). */
  static final double FIRST_GUESS_PUTS_PER_SECOND = 100;
  /** The Go watch tool prints this title once every watch is created, then starts the puts. */
  static final String WATCHES_CREATED = "Watch creation summary:";

  private final Path binary;
  private final BenchConfig config;
  private final String runId;
  private final ProcFs procFs;
  private final ResourceMonitor serverMonitor;
  private final Map<String, Double> lastRate = new HashMap<>();
  private final Map<String, Path> wrkScripts = new HashMap<>();

  /** @param procFs null without /proc: CPU is then unknown */
  public GoLoader(Path binary, BenchConfig config, String runId, ProcFs procFs, ResourceMonitor serverMonitor) {
    this.binary = binary;
    this.config = config;
    this.runId = runId;
    this.procFs = procFs;
    this.serverMonitor = serverMonitor;
  }

  /** The report's scenario name for the Go loader's rounds, next to the Java loader's {@code scenario}. */
  public static String label(String scenario) {
    return scenario + (Wrk.supports(scenario) ? "-wrk" : "-go");
  }

  /** The second loader's name for {@code scenario}, for the progress line. */
  public static String tool(String scenario) {
    return Wrk.supports(scenario) ? "wrk" : "etcd's Go tool";
  }

  /** The Go tool's binary: {@code LAUNCHER path} prints it (building it first if needed). */
  public static Path resolve(Path launcher) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(launcher.toString(), "path").redirectErrorStream(false)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (process.waitFor() != 0 || out.isEmpty()) {
      throw new IOException(launcher + " path failed (exit " + process.exitValue() + ")");
    }
    String[] lines = out.split("\n");
    return Path.of(lines[lines.length - 1].trim());
  }

  /** For the report: the Go tool's command for this scenario, at the size of a first round. */
  public String describe(String scenario) {
    if (Wrk.supports(scenario)) {
      return "wrk 4.1 (Debian's): `wrk " + String.join(" ", Wrk.args(config, "HOST:PORT", Path.of(scenario + ".lua")))
          + "`, the Lua script POSTing the Java scenario's bodies (keys at random, read from a file)";
    }
    return "etcd's Go benchmark tool (tools/benchmark of etcd 3.4): `benchmark "
        + String.join(" ", args(scenario, "HOST:PORT", firstTotal(scenario))) + "`, its size per round "
        + "from the previous round's rate × --duration-ms" + notes(scenario);
  }

  private static String notes(String scenario) {
    return switch (scenario) {
      case "watch-fanout" -> "; headline: delivered events/s over the puts' phase (server CPU is sampled from the "
          + "end of watch creation); the Go tool times no put-to-event latency; values are 4 B";
      case "range-linearizable", "range-serializable" -> "; reads the Java scenario's pre-filled keys from the first";
      case "put", "txn-put" -> "; binary keys, random over the key space";
      default -> "";
    };
  }

  public RoundResult runRound(String scenario, Side side, int round, String endpoint, long serverPid)
      throws IOException, InterruptedException {
    String key = scenario + "/" + side.label();
    long total = lastRate.containsKey(key) ? totalAt(scenario, lastRate.get(key)) : firstTotal(scenario);
    boolean wrk = Wrk.supports(scenario);
    List<String> command = new ArrayList<>(List.of(wrk ? "wrk" : binary.toString()));
    command.addAll(wrk ? Wrk.args(config, endpoint, wrkScript(scenario)) : args(scenario, endpoint, total));
    boolean watch = scenario.equals("watch-fanout");
    long childTicksBefore = childTicks();
    if (!watch) {
      serverMonitor.start(serverPid);
    }
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    long[] goTicksBeforePuts = {0};
    StringBuilder output = new StringBuilder();
    Thread reader = new Thread(() -> read(process, output, line -> {
      if (watch && line.trim().equals(WATCHES_CREATED)) {
        goTicksBeforePuts[0] = goTicks(process.pid());
        serverMonitor.start(serverPid);
      }
    }), "go-benchmark-output");
    reader.setDaemon(true);
    reader.start();
    long timeoutMs = 120_000 + 20 * config.durationMs;
    boolean exited = process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
    if (!exited) {
      process.destroyForcibly().waitFor();
    }
    // after the reader saw the end of the output, so after its start() of a watch round
    reader.join(10_000);
    ResourceUsage server = serverMonitor.stop();
    String text;
    synchronized (output) {
      text = output.toString();
    }
    if (!exited || process.exitValue() != 0) {
      throw new IllegalStateException((wrk ? "wrk " : "etcd's Go benchmark ") + (exited ? "exited " + process.exitValue()
          : "did not finish in " + timeoutMs + " ms") + ": " + GoOutput.tail(text));
    }
    ResourceUsage client = procFs == null ? ResourceUsage.UNKNOWN
        : new ResourceUsage(procFs.ticksToSeconds(childTicks() - childTicksBefore - goTicksBeforePuts[0]), -1);
    List<Measure> measures = wrk ? List.of(Wrk.measure(scenario, text)) : measures(scenario, text);
    lastRate.put(key, watch ? measures.get(0).perSecond() / GoCommands.eventsPerPut(config)
        : measures.get(0).perSecond());
    return new RoundResult(label(scenario), side, round, measures, server, client);
  }

  /** The round's measures, headline first, from the tool's output. */
  static List<Measure> measures(String scenario, String output) {
    List<GoOutput.Summary> summaries = GoOutput.parse(output);
    return switch (scenario) {
      case "watch-fanout" -> List.of(
          GoOutput.find(summaries, "Watch events received", output).toMeasure("events", false),
          GoOutput.find(summaries, "Watch creation", output).toMeasure("watch-create", true));
      case "put" -> List.of(GoOutput.find(summaries, "", output).toMeasure("put", true));
      case "txn-put" -> List.of(GoOutput.find(summaries, "", output).toMeasure("txn", true));
      default -> List.of(GoOutput.find(summaries, "", output).toMeasure("range", true));
    };
  }

  /** The scenario's wrk script, written once per run (both sides' keys are under the same prefix). */
  private Path wrkScript(String scenario) throws IOException {
    Path script = wrkScripts.get(scenario);
    if (script == null) {
      Path dir = Files.createTempDirectory("vigil-bench-wrk");
      dir.toFile().deleteOnExit();
      script = Wrk.writeScript(scenario, config, Scenarios.prefix(scenario, runId), dir);
      script.toFile().deleteOnExit();
      dir.resolve(scenario + "-keys.txt").toFile().deleteOnExit();
      wrkScripts.put(scenario, script);
    }
    return script;
  }

  private List<String> args(String scenario, String endpoint, long total) {
    String rangeKey = null;
    String rangeEnd = null;
    if (scenario.startsWith("range-")) {
      // the keys RangeScenario pre-filled on this side: [key(0), key(span))
      Keys keys = new Keys(Scenarios.prefix(scenario, runId), config.keySizeBytes, config.keySpace + 1L);
      rangeKey = keys.key(0).toStringUtf8();
      rangeEnd = config.rangeKeysPerOp > 1 ? keys.key(config.rangeKeysPerOp).toStringUtf8() : null;
    }
    return GoCommands.args(scenario, config, endpoint, total, rangeKey, rangeEnd);
  }

  private long firstTotal(String scenario) {
    return totalAt(scenario, scenario.equals("watch-fanout") ? FIRST_GUESS_PUTS_PER_SECOND : FIRST_GUESS_PER_SECOND);
  }

  /** Requests (or, for watch, puts) for one round at {@code ratePerSecond}; a paced watch at its pace. */
  private long totalAt(String scenario, double ratePerSecond) {
    boolean watch = scenario.equals("watch-fanout");
    double rate = watch && config.watchPutRate > 0 ? config.watchPutRate : ratePerSecond;
    long min = watch ? config.watchKeys : config.clients;
    return GoCommands.total(rate, config.durationMs, min, config.maxOpsPerRound);
  }

  private long childTicks() throws IOException {
    return procFs == null ? 0 : procFs.waitedChildrenTicks(ProcessHandle.current().pid());
  }

  private long goTicks(long pid) {
    try {
      return procFs == null ? 0 : procFs.sampleProcess(pid).cpuTicks();
    } catch (IOException e) {
      return 0;
    }
  }

  private static void read(Process process, StringBuilder output, Consumer<String> onLine) {
    // readLine splits at \r too, which separates the tool's progress-bar redraws
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        onLine.accept(line);
        synchronized (output) {
          output.append(line).append('\n');
        }
      }
    } catch (IOException e) {
      synchronized (output) {
        output.append("(reading the output failed: ").append(e.getMessage()).append(")\n");
      }
    }
  }
}
