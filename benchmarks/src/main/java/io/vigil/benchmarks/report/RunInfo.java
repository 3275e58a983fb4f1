package io.vigil.benchmarks.report;

import io.vigil.benchmarks.measure.Side;
import java.util.Map;

/**
 * What the report says about the run besides the numbers.
 *
 * @param servers per side: origin, endpoint and version
 * @param scenarios per scenario: the parameters that shaped its load
 * @param failures per scenario and side: why it produced no (or not all) rounds
 */
public record RunInfo(String startedAt, String command, String machine, long seed, int rounds, int warmupRounds,
    long durationMs, long warmupMs, long serverWarmupMs, Map<Side, String> servers, Map<String, String> scenarios,
    Map<String, Map<Side, String>> failures) {}
