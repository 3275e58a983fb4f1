package io.vigil.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The mutation check: the suite must fail on a core with a known Raft bug. Each test switches
 * one {@link Mutation} on, runs the tier meant to catch it, and fails if that tier passes.
 *
 * <ul>
 *   <li>Simulation tier: the short CI seeds, in order, stopping at the first failure; the
 *       mutation must be caught within {@link #SIM_SEED_BUDGET} seeds. The seed that caught it
 *       and its replay command are printed.
 *   <li>Spec tier: the message-level test written for the rule the mutation breaks.
 * </ul>
 *
 * <p>A mutation that survives means the suite has a blind spot: fix the suite, never the budget.
 */
class MutationCheckTest {
  /** Seeds of the short tier a mutation may survive before the check fails. */
  static final int SIM_SEED_BUDGET = 100;

  @AfterEach
  void off() {
    Mutation.active = Mutation.NONE;
  }

  /** Runs short-tier seeds 1.. until one fails; returns the failure. */
  private static AssertionError simulationCatches(Mutation m) {
    Mutation.active = m;
    try {
      for (long seed = 1; seed <= SIM_SEED_BUDGET; seed++) {
        try {
          RaftSimulationTest.runSeed(seed, RaftSimulationTest.DEFAULT_CHAOS_TICKS);
        } catch (AssertionError e) {
          System.out.println("mutation " + m + " caught by simulation seed " + seed + ": "
              + e.getMessage().lines().findFirst().orElse(""));
          return e;
        }
      }
    } finally {
      Mutation.active = Mutation.NONE;
    }
    return fail("mutation " + m + " survived " + SIM_SEED_BUDGET + " simulation seeds of "
        + RaftSimulationTest.DEFAULT_CHAOS_TICKS + " ticks");
  }

  private static void specCatches(Mutation m, Executable specTest) {
    Mutation.active = m;
    try {
      specTest.execute();
    } catch (AssertionError | RuntimeException e) {
      return; // caught
    } catch (Throwable t) {
      throw new AssertionError(t);
    } finally {
      Mutation.active = Mutation.NONE;
    }
    fail("mutation " + m + " passed its spec test");
  }

  @Test
  void voteNotPersisted() {
    AssertionError e = simulationCatches(Mutation.VOTE_NOT_PERSISTED);
    assertTrue(e.getMessage().contains("vote durability"), e.getMessage());
  }

  @Test
  void voteChangeWithoutHardState() {
    AssertionError e = simulationCatches(Mutation.VOTE_CHANGE_WITHOUT_HARDSTATE);
    assertTrue(e.getMessage().contains("vote durability"), e.getMessage());
  }

  @Test
  void voteChangeNotSynced() {
    simulationCatches(Mutation.VOTE_CHANGE_NOT_SYNCED);
  }

  @Test
  void commitPreviousTermByCounting() {
    specCatches(Mutation.COMMIT_PREVIOUS_TERM_BY_COUNTING,
        () -> new RaftPaperTest().leaderCommitsPreviousTermEntriesOnlyWithAnEntryOfItsOwnTerm());
    simulationCatches(Mutation.COMMIT_PREVIOUS_TERM_BY_COUNTING);
  }

  @Test
  void keepConflictingEntries() {
    specCatches(Mutation.KEEP_CONFLICTING_ENTRIES,
        () -> new RaftPaperTest().followerDeletesConflictingEntriesAndAppendsNewOnes());
    simulationCatches(Mutation.KEEP_CONFLICTING_ENTRIES);
  }

  @Test
  void voteForStaleLog() {
    specCatches(Mutation.VOTE_FOR_STALE_LOG,
        () -> new RaftPaperTest().voterGrantsOnlyToCandidatesAtLeastAsUpToDate(9, 1, false));
    simulationCatches(Mutation.VOTE_FOR_STALE_LOG);
  }

  /** The replay line a failure prints reruns the same failure, knobs and all. */
  @Test
  void printedReplayReproducesTheFailure() {
    AssertionError first = simulationCatches(Mutation.VOTE_CHANGE_WITHOUT_HARDSTATE);
    Matcher replay = Pattern.compile("replay: +(.*)").matcher(first.getMessage());
    assertTrue(replay.find(), first.getMessage());
    String line = replay.group(1);
    long seed = Long.parseLong(knob(line, RaftSimulationTest.SEED_PROP_NAME));
    int ticks = Integer.parseInt(knob(line, RaftSimulationTest.TICKS_PROP_NAME));
    Mutation.active = Mutation.valueOf(knob(line, RaftSimulationTest.MUTATION_PROP_NAME));
    AssertionError again = null;
    try {
      RaftSimulationTest.runSeed(seed, ticks);
    } catch (AssertionError e) {
      again = e;
    } finally {
      Mutation.active = Mutation.NONE;
    }
    assertNotNull(again, "replaying `" + line + "` passed");
    assertEquals(first.getMessage(), again.getMessage());
  }

  private static String knob(String line, String name) {
    Matcher m = Pattern.compile("-D" + Pattern.quote(name) + "=(\\S+)").matcher(line);
    assertTrue(m.find(), "replay line lacks " + name + ": " + line);
    return m.group(1);
  }
}
