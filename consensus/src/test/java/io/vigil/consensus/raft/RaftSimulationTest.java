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
 * Seeded simulations of a whole cluster under faults (see {@link Simulation}). By default runs
 * {@value #DEFAULT_SEEDS} seeds; for many more, or to replay one:
 *
 * <pre>
 * scripts/raft-sim.sh 20000                  # seeds 1..20000
 * ./mvnw -o -q -pl consensus test -Dtest=RaftSimulationTest#replay -Dvigil.raft.sim.seed=1234
 * </pre>
 */
class RaftSimulationTest {
  static final String SEEDS_PROP_NAME = "vigil.raft.sim.seeds";
  static final String FIRST_SEED_PROP_NAME = "vigil.raft.sim.firstSeed";
  static final String SEED_PROP_NAME = "vigil.raft.sim.seed";
  static final String TICKS_PROP_NAME = "vigil.raft.sim.ticks";
  static final int DEFAULT_SEEDS = 300;
  static final int DEFAULT_CHAOS_TICKS = 1500;

  private static long longProperty(String name, long defaultValue) {
    String v = System.getProperty(name);
    return v == null || v.isBlank() ? defaultValue : Long.parseLong(v.trim());
  }

  static Simulation.Result runSeed(long seed) {
    int ticks = (int) longProperty(TICKS_PROP_NAME, DEFAULT_CHAOS_TICKS);
    Simulation.Result r = new Simulation(seed, Simulation.Options.forSeed(seed, ticks)).run();
    assertTrue(r.maxCommit() > 1, "seed " + seed + " committed nothing");
    assertTrue(r.livenessTicks() <= Simulation.LIVENESS_BOUND_TICKS);
    return r;
  }

  @TestFactory
  Stream<DynamicTest> seededSimulations() {
    long first = longProperty(FIRST_SEED_PROP_NAME, 1);
    long count = longProperty(SEEDS_PROP_NAME, DEFAULT_SEEDS);
    return LongStream.range(first, first + count)
        .mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> runSeed(seed)));
  }

  /** Replays the seed given by {@code -Dvigil.raft.sim.seed=N}; skipped without it. */
  @Test
  void replay() {
    String seed = System.getProperty(SEED_PROP_NAME);
    assumeTrue(seed != null && !seed.isBlank(), "set -D" + SEED_PROP_NAME + "=N to replay");
    Simulation.Result r = runSeed(Long.parseLong(seed.trim()));
    System.out.println("replayed " + r);
  }

  @Test
  void sameSeedReplaysTheSameRun() {
    Simulation.Result a = runSeed(42);
    Simulation.Result b = runSeed(42);
    assertEquals(a, b);
    assertNotEquals(a.fingerprint(), runSeed(43).fingerprint());
  }
}
