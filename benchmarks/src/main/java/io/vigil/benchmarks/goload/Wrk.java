package io.vigil.benchmarks.goload;

import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.scenario.Keys;
import io.vigil.benchmarks.scenario.Payload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JSON scenarios' second loader: wrk (Debian's, 4.1), one thread, one keep-alive connection
 * per --clients, for --duration-ms rounded to whole seconds, with a Lua script that POSTs the
 * Java scenario's bodies (the same base64 keys, read from a file at start, picked at random).
 * Its output becomes a harness measure as the Go tool's does ({@link GoOutput.Summary}): wrk
 * prints p50/p75/p90/p99 and the maximum; a response other than 2xx/3xx or a socket error
 * counts as an error.
 */
final class Wrk {
  private static final Pattern PERCENTILE = Pattern.compile("^\\s*([0-9.]+)%\\s+([0-9.]+)(us|ms|s|m)\\s*$");
  private static final Pattern LATENCY = Pattern.compile("^\\s*Latency\\s+\\S+\\s+\\S+\\s+([0-9.]+)(us|ms|s|m)\\s.*$");
  private static final Pattern REQUESTS = Pattern.compile("^\\s*(\\d+) requests in ([0-9.]+)(us|ms|s|m),.*$");
  private static final Pattern NON_2XX = Pattern.compile("^\\s*Non-2xx or 3xx responses:\\s*(\\d+)\\s*$");
  private static final Pattern SOCKET_ERRORS = Pattern.compile(
      "^\\s*Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)\\s*$");

  private Wrk() {}

  static boolean supports(String scenario) {
    return scenario.equals("json-put") || scenario.equals("json-range");
  }

  static long seconds(BenchConfig config) {
    return Math.max(1, Math.round(config.durationMs / 1000.0));
  }

  /** wrk's arguments after the binary; {@code script} from {@link #writeScript}. */
  static List<String> args(BenchConfig config, String endpoint, Path script) {
    return List.of("-t1", "-c" + config.clients, "-d" + seconds(config) + "s", "--latency", "-s", script.toString(),
        "http://" + endpoint);
  }

  /** Writes the Lua script (and its keys file) of {@code scenario} over the keys under {@code prefix}. */
  static Path writeScript(String scenario, BenchConfig config, String prefix, Path dir) throws IOException {
    boolean put = scenario.equals("json-put");
    Keys keys = new Keys(prefix, config.keySizeBytes, config.keySpace + 1L);
    Base64.Encoder b64 = Base64.getEncoder();
    List<String> lines = new ArrayList<>();
    for (long i = 0; i <= config.keySpace; i++) {
      lines.add(b64.encodeToString(keys.key(i).toByteArray()));
    }
    Path keysFile = dir.resolve(scenario + "-keys.txt");
    Files.write(keysFile, lines, StandardCharsets.US_ASCII);
    String value = b64.encodeToString(Payload.filler(config.valueSizeBytes).toByteArray());
    String lua = String.join("\n",
        "-- " + scenario + ": keys[i] is base64 of key i - 1; " + config.keySpace + " keys, span " + config.rangeKeysPerOp,
        "local keys = {}",
        "for line in io.lines(\"" + keysFile + "\") do keys[#keys + 1] = line end",
        "local space, span = " + config.keySpace + ", " + config.rangeKeysPerOp,
        "wrk.method = \"POST\"",
        "wrk.headers[\"Content-Type\"] = \"application/json\"",
        "request = function()",
        put ? "  return wrk.format(nil, \"/v3/kv/put\", nil, '{\"key\":\"' .. keys[math.random(1, space)] .. '\",\"value\":\""
            + value + "\"}')"
            : "  local i = math.random(1, space - span + 1)\n"
            + "  local body = '{\"key\":\"' .. keys[i] .. '\"'\n"
            + "  if span > 1 then body = body .. ',\"range_end\":\"' .. keys[i + span] .. '\"' end\n"
            + "  return wrk.format(nil, \"/v3/kv/range\", nil, body .. '}')",
        "end",
        "");
    Path script = dir.resolve(scenario + ".lua");
    Files.writeString(script, lua, StandardCharsets.UTF_8);
    return script;
  }

  /** The round's headline measure from wrk's output with --latency. */
  static Measure measure(String scenario, String output) {
    long requests = -1;
    double totalSeconds = 0;
    double slowest = 0;
    long errors = 0;
    SortedMap<Double, Double> percentiles = new TreeMap<>();
    for (String line : output.split("[\r\n]+")) {
      Matcher m;
      if ((m = PERCENTILE.matcher(line)).matches()) {
        percentiles.put(Double.parseDouble(m.group(1)), seconds(m.group(2), m.group(3)));
      } else if ((m = LATENCY.matcher(line)).matches()) {
        slowest = seconds(m.group(1), m.group(2));
      } else if ((m = REQUESTS.matcher(line)).matches()) {
        requests = Long.parseLong(m.group(1));
        totalSeconds = seconds(m.group(2), m.group(3));
      } else if ((m = NON_2XX.matcher(line)).matches()) {
        errors += Long.parseLong(m.group(1));
      } else if ((m = SOCKET_ERRORS.matcher(line)).matches()) {
        for (int g = 1; g <= 4; g++) {
          errors += Long.parseLong(m.group(g));
        }
      }
    }
    if (requests < 0 || totalSeconds <= 0) {
      throw new IllegalStateException("wrk printed no request count; its output ends: " + GoOutput.tail(output));
    }
    long ok = Math.max(0, requests - errors);
    return new GoOutput.Summary("", totalSeconds, slowest, ok / totalSeconds, percentiles, errors,
        errors > 0 ? "non-2xx responses or socket errors (wrk counts, not messages)" : null)
        .toMeasure(scenario.equals("json-put") ? "put" : "range", true);
  }

  private static double seconds(String number, String unit) {
    double v = Double.parseDouble(number);
    return switch (unit) {
      case "us" -> v / 1e6;
      case "ms" -> v / 1e3;
      case "m" -> v * 60;
      default -> v;
    };
  }
}
