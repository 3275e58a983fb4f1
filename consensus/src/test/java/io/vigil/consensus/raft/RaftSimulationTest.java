package io.vigil.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Seeded simulations of a whole cluster under faults (see {@link Simulation}), in two tiers:
 * many short runs ({@value #DEFAULT_SEEDS} seeds of {@value #DEFAULT_CHAOS_TICKS} chaos ticks:
 * breadth of scenarios) and a few long ones ({@value #DEFAULT_LONG_SEEDS} seeds of
 * {@value #DEFAULT_LONG_TICKS} ticks, from seed {@value #LONG_FIRST_SEED}: histories deep
 * enough for multi-term bugs). Every failure prints the command that replays it; for many more
 * seeds run {@code scripts/raft-sim.sh}:
 *
 * <pre>
 * scripts/raft-sim.sh 20000                  # seeds 1..20000, then the long tier
 * ./mvnw -q -B -pl consensus -am test -Dtest=RaftSimulationTest#replay \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dvigil.raft.sim.seed=1234 -Dvigil.raft.sim.ticks=600
 * </pre>
 */
class RaftSimulationTest {
  static final String SEEDS_PROP_NAME = "vigil.raft.sim.seeds";
  static final String FIRST_SEED_PROP_NAME = "vigil.raft.sim.firstSeed";
  static final String SEED_PROP_NAME = "vigil.raft.sim.seed";
  static final String TICKS_PROP_NAME = "vigil.raft.sim.ticks";
  static final String LONG_SEEDS_PROP_NAME = "vigil.raft.sim.longSeeds";
  static final String LONG_FIRST_SEED_PROP_NAME = "vigil.raft.sim.longFirstSeed";
  static final String LONG_TICKS_PROP_NAME = "vigil.raft.sim.longTicks";
  /** Replay only: the {@link Mutation} a failing mutation-check run had switched on. */
  static final String MUTATION_PROP_NAME = "vigil.raft.mutation";
  static final int DEFAULT_SEEDS = 400;
  static final int DEFAULT_CHAOS_TICKS = 600;
  static final int DEFAULT_LONG_SEEDS = 10;
  static final int DEFAULT_LONG_TICKS = 20_000;
  static final long LONG_FIRST_SEED = 1_000_001;

  static long longProperty(String name, long defaultValue) {
    String v = System.getProperty(name);
    return v == null || v.isBlank() ? defaultValue : Long.parseLong(v.trim());
  }

  static Simulation.Result runSeed(long seed, int ticks) {
    Simulation.Result r = new Simulation(seed, Simulation.Options.forSeed(seed, ticks)).run();
    assertTrue(r.maxCommit() > 1, "seed " + seed + " committed nothing");
    assertTrue(r.livenessTicks() <= Simulation.LIVENESS_BOUND_TICKS);
    return r;
  }

  @TestFactory
  Stream<DynamicTest> seededSimulations() {
    long first = longProperty(FIRST_SEED_PROP_NAME, 1);
    long count = longProperty(SEEDS_PROP_NAME, DEFAULT_SEEDS);
    int ticks = (int) longProperty(TICKS_PROP_NAME, DEFAULT_CHAOS_TICKS);
    return LongStream.range(first, first + count).mapToObj(seed -> DynamicTest.dynamicTest(
        "seed " + seed + " ticks " + ticks, () -> runSeedWithPropertyMutation(seed, ticks)));
  }

  @TestFactory
  Stream<DynamicTest> longSimulations() {
    long first = longProperty(LONG_FIRST_SEED_PROP_NAME, LONG_FIRST_SEED);
    long count = longProperty(LONG_SEEDS_PROP_NAME, DEFAULT_LONG_SEEDS);
    int ticks = (int) longProperty(LONG_TICKS_PROP_NAME, DEFAULT_LONG_TICKS);
    return LongStream.range(first, first + count).mapToObj(seed -> DynamicTest.dynamicTest(
        "seed " + seed + " ticks " + ticks, () -> runSeedWithPropertyMutation(seed, ticks)));
  }

  /**
   * Runs with the {@link Mutation} named by {@code -Dvigil.raft.mutation} (none if unset), so
   * the script and a replay can rerun a mutation-check failure; always switched off after.
   */
  static Simulation.Result runSeedWithPropertyMutation(long seed, int ticks) {
    String mutation = System.getProperty(MUTATION_PROP_NAME, "").trim();
    Mutation.active = mutation.isEmpty() ? Mutation.NONE : Mutation.valueOf(mutation);
    try {
      return runSeed(seed, ticks);
    } finally {
      Mutation.active = Mutation.NONE;
    }
  }

  /**
   * Replays the run given by {@code -Dvigil.raft.sim.seed=N -Dvigil.raft.sim.ticks=M} (and
   * {@code -Dvigil.raft.mutation=NAME} for a mutation-check failure), exactly as a failure
   * prints it; skipped without a seed.
   */
  @Test
  void replay() {
    String seed = System.getProperty(SEED_PROP_NAME);
    assumeTrue(seed != null && !seed.isBlank(), "set -D" + SEED_PROP_NAME + "=N to replay");
    int ticks = (int) longProperty(TICKS_PROP_NAME, DEFAULT_CHAOS_TICKS);
    Simulation.Result r = runSeedWithPropertyMutation(Long.parseLong(seed.trim()), ticks);
    System.out.println("replayed " + r);
  }

  @Test
  void sameSeedReplaysTheSameRun() {
    Simulation.Result a = runSeed(42, DEFAULT_CHAOS_TICKS);
    Simulation.Result b = runSeed(42, DEFAULT_CHAOS_TICKS);
    assertEquals(a, b);
    assertNotEquals(a.fingerprint(), runSeed(43, DEFAULT_CHAOS_TICKS).fingerprint());
  }
}
