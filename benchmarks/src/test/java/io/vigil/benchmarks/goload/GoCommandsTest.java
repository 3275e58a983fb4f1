package io.vigil.benchmarks.goload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.benchmarks.BenchConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class GoCommandsTest {
  private static BenchConfig config(String... args) {
    return BenchConfig.fromArgs(args, 7, "20260101-000000");
  }

  @Test
  void putHasTheJavaLoadersShape() {
    BenchConfig config = config("--clients", "64", "--connections", "4", "--key-space", "1000");
    assertEquals(List.of("--endpoints=127.0.0.1:2379", "--precise", "--clients=64", "--conns=4",
        "put", "--total=5000", "--key-size=32", "--val-size=256", "--key-space-size=1000"),
        GoCommands.args("put", config, "127.0.0.1:2379", 5000, null, null));
  }

  @Test
  void rangeReadsTheGivenKeysAtEitherConsistency() {
    BenchConfig config = config("--clients", "8", "--connections", "2");
    assertEquals(List.of("--endpoints=h:1", "--precise", "--clients=8", "--conns=2",
        "range", "vb/k0", "--consistency=l", "--total=100"),
        GoCommands.args("range-linearizable", config, "h:1", 100, "vb/k0", null));
    assertEquals(List.of("--endpoints=h:1", "--precise", "--clients=8", "--conns=2",
        "range", "vb/k0", "vb/k5", "--consistency=s", "--total=100"),
        GoCommands.args("range-serializable", config, "h:1", 100, "vb/k0", "vb/k5"));
  }

  @Test
  void txnPutCarriesItsOpsPerTxn() {
    List<String> args = GoCommands.args("txn-put", config("--txn-ops", "3"), "h:1", 10, null, null);
    assertTrue(args.containsAll(List.of("txn-put", "--txn-ops=3", "--total=10")), args.toString());
  }

  @Test
  void watchFanoutMapsWatchersStreamsKeysAndWriters() {
    BenchConfig config = config("--watchers", "1000", "--watch-streams", "10", "--watch-keys", "10",
        "--watch-writers", "2", "--connections", "4", "--watch-put-rate", "200");
    assertEquals(List.of("--endpoints=h:1", "--precise", "--clients=2", "--conns=2",
        "watch", "--streams=10", "--watch-per-stream=100", "--watched-key-total=10", "--sequential-keys",
        "--key-space-size=10", "--key-size=32", "--put-total=2000", "--put-rate=200"),
        GoCommands.args("watch-fanout", config, "h:1", 2000, null, null));
    assertEquals(100.0, GoCommands.eventsPerPut(config));
  }

  @Test
  void anUnpacedWatchGetsAHugeRateBecauseTheToolsZeroStopsAfterOnePut() {
    BenchConfig config = config("--watch-put-rate", "0");
    assertTrue(GoCommands.args("watch-fanout", config, "h:1", 10, null, null)
        .contains("--put-rate=" + GoCommands.UNPACED_PUT_RATE));
  }

  @Test
  void watchersThatDoNotDivideIntoStreamsAreRoundedDown() {
    BenchConfig config = config("--watchers", "1005", "--watch-streams", "10", "--watch-keys", "10");
    assertEquals(100, GoCommands.watchersPerStream(config));
    assertEquals(100.0, GoCommands.eventsPerPut(config));
  }

  @Test
  void roundSizeFollowsTheRateWithinBounds() {
    assertEquals(20_000, GoCommands.total(2000, 10_000, 64, 10_000_000));
    assertEquals(64, GoCommands.total(1, 800, 64, 10_000_000));
    assertEquals(1000, GoCommands.total(1e6, 10_000, 64, 1000));
  }

  @Test
  void onlyMappedScenariosHaveAGoEquivalent() {
    assertTrue(GoCommands.supports("watch-fanout"));
    assertFalse(GoCommands.supports("lease-keepalive"));
    assertThrows(IllegalArgumentException.class,
        () -> GoCommands.args("mixed", config(), "h:1", 1, null, null));
  }
}
