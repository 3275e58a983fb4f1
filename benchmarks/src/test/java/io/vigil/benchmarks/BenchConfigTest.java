package io.vigil.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.benchmarks.measure.Side;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchConfigTest {
  private static BenchConfig parse(String... args) {
    return BenchConfig.fromArgs(args, 7, "20260101-000000");
  }

  private static String error(String... args) {
    return assertThrows(IllegalArgumentException.class, () -> parse(args)).getMessage();
  }

  @Test
  void defaultsRunEveryScenarioOnBothSides() {
    BenchConfig config = parse("--repo-dir", "/r");
    assertEquals(BenchConfig.SCENARIOS, config.scenarios);
    assertEquals(List.of(Side.VIGIL, Side.ETCD), config.sides);
    assertEquals(3, config.rounds);
    assertEquals(10_000, config.durationMs);
    assertEquals(7, config.seed);
    assertEquals(Path.of("/r/bin/vigil"), config.vigilLauncher);
    assertEquals(Path.of("/shared/tools/reference-etcd"), config.etcdLauncher);
    assertEquals(Path.of("/r/benchmarks/results/20260101-000000"), config.resultsDir);
    assertNull(config.vigilEndpoint);
  }

  @Test
  void quickShrinksButExplicitFlagsWin() {
    BenchConfig quick = parse("--quick", "--clients=5");
    assertEquals(800, quick.durationMs);
    assertEquals(2, quick.rounds);
    assertEquals(5, quick.clients);
    assertEquals(200, quick.watchers);
    assertEquals("true", quick.values.get("quick"));
  }

  @Test
  void rangeExpandsAndOrderIsKept() {
    assertEquals(List.of("watch-fanout", "range-linearizable", "range-serializable"),
        parse("--scenarios", "watch-fanout,range").scenarios);
  }

  @Test
  void endpointsAcceptUrlsAndPids() {
    BenchConfig config = parse("--vigil-endpoint", "http://127.0.0.1:2379", "--vigil-pid", "99",
        "--sides", "etcd,vigil");
    assertEquals("127.0.0.1:2379", config.vigilEndpoint);
    assertEquals(99, config.vigilPid);
    assertEquals(List.of(Side.ETCD, Side.VIGIL), config.sides);
  }

  @Test
  void badInputIsRejectedNamingTheFlag() {
    assertEquals("unknown flag --client (see --help)", error("--client", "3"));
    assertEquals("--clients must be >= 1, got 0", error("--clients", "0"));
    assertEquals("--rounds: cannot read 'two'", error("--rounds", "two"));
    assertEquals("--duration-ms needs a value", error("--duration-ms"));
    assertTrue(error("--scenarios", "put,gets").startsWith("--scenarios: unknown scenario 'gets'"));
    assertEquals("unknown side 'consul' (expected vigil or etcd)", error("--sides", "etcd,consul"));
    assertEquals("--watch-keys 20 exceeds --watchers 10", error("--watchers", "10", "--watch-keys", "20"));
    assertEquals("--etcd-endpoint must be HOST:PORT, got localhost", error("--etcd-endpoint", "localhost"));
    assertEquals("unexpected argument 'put' (flags start with --)", error("put"));
  }

  @Test
  void secureIsASwitchAndNeedsServersItStarts() {
    assertEquals(false, parse().secure);
    BenchConfig secure = parse("--secure", "--quick");
    assertTrue(secure.secure);
    assertTrue(secure.quick);
    assertEquals("true", secure.values.get("secure"));
    assertTrue(parse("--secure=true").secure);
    assertEquals(false, parse("--secure=false").secure);
    assertTrue(error("--secure", "--vigil-endpoint", "127.0.0.1:2379").startsWith("--secure starts both servers itself"));
    assertTrue(error("--etcd-endpoint", "127.0.0.1:2379", "--secure").startsWith("--secure starts both servers itself"));
    assertTrue(BenchConfig.help().contains("--secure"));
  }

  @Test
  void helpListsEveryFlag() {
    String help = BenchConfig.help();
    for (Flag flag : BenchConfig.FLAGS) {
      assertTrue(help.contains("--" + flag.name()), flag.name());
    }
  }

  @Test
  void loaderIsJavaUnlessAskedAndNamesTheGoLauncher() {
    BenchConfig defaults = parse("--repo-dir", "/r");
    assertTrue(defaults.javaLoader && !defaults.goLoader);
    assertEquals(Path.of("/shared/tools/etcd-benchmark"), defaults.goBenchmark);
    BenchConfig both = parse("--loader", "both", "--go-benchmark", "/x/gb");
    assertTrue(both.javaLoader && both.goLoader);
    assertEquals(Path.of("/x/gb"), both.goBenchmark);
    BenchConfig go = parse("--loader=go", "--scenarios", "put,lease-keepalive");
    assertTrue(!go.javaLoader && go.goLoader);
  }

  @Test
  void loaderRejectsUnknownValuesSecureAndGoWithNothingToRun() {
    assertTrue(error("--loader", "rust").contains("--loader must be java, go or both"));
    assertTrue(error("--loader", "both", "--secure").contains("go-secure"));
    assertTrue(error("--loader", "go", "--scenarios", "lease-keepalive,mixed").contains("has a Go equivalent"));
  }
}
