package io.vigil.benchmarks.goload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.RoundResult;
import io.vigil.benchmarks.measure.Side;
import io.vigil.benchmarks.proc.ProcFs;
import io.vigil.benchmarks.proc.ResourceMonitor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The round plumbing, with a stand-in for the Go tool: a script that logs its arguments and prints a capture. */
class GoLoaderTest {
  @TempDir
  Path dir;

  private Path fakeTool(String capture, int exitCode) throws IOException {
    Path output = dir.resolve("output.txt");
    Files.writeString(output, GoOutputTest.resource(capture));
    Path script = dir.resolve("benchmark");
    Files.writeString(script, "#!/bin/sh\necho \"$@\" >> '" + dir.resolve("args.log") + "'\ncat '" + output
        + "'\nexit " + exitCode + "\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return script;
  }

  private GoLoader loader(Path tool, String... args) {
    BenchConfig config = BenchConfig.fromArgs(args, 7, "20260101-000000");
    ProcFs procFs = ProcFs.available() ? ProcFs.system() : null;
    return new GoLoader(tool, config, "r1", procFs, new ResourceMonitor(procFs, 100, true));
  }

  @Test
  void aRoundIsLabelledSizedFromThePreviousRateAndMeasured() throws Exception {
    GoLoader loader = loader(fakeTool("put.txt", 0), "--quick", "--loader", "both");
    RoundResult first = loader.runRound("put", Side.ETCD, 1, "127.0.0.1:9", -1);
    assertEquals("put-go", first.scenario());
    assertEquals(Side.ETCD, first.side());
    assertEquals(2000, first.primary().count());
    assertFalse(first.server().known()); // no server pid given
    if (ProcFs.available()) {
      assertTrue(first.client().cpuSeconds() >= 0);
    }
    loader.runRound("put", Side.ETCD, 2, "127.0.0.1:9", -1);
    String[] calls = Files.readString(dir.resolve("args.log")).split("\n");
    // the first guess, 1000/s × 800 ms; then the printed 2000 / 0.4123456 s × 800 ms
    assertTrue(calls[0].contains("--endpoints=127.0.0.1:9") && calls[0].contains("put --total=800"), calls[0]);
    assertTrue(calls[1].contains("put --total=3880"), calls[1]);
  }

  @Test
  void rangeReadsTheKeysTheJavaScenarioPrefilled() throws Exception {
    GoLoader loader = loader(fakeTool("put.txt", 0), "--quick", "--key-size-bytes", "16"); // 9 B of prefix, 7 digits
    loader.runRound("range-serializable", Side.VIGIL, 1, "h:1", -1);
    String call = Files.readString(dir.resolve("args.log"));
    assertTrue(call.contains("range vb/r1/rs/0000000 --consistency=s"), call);
  }

  @Test
  void aWatchRoundReportsDeliveredEventsFirst() throws Exception {
    GoLoader loader = loader(fakeTool("watch.txt", 0), "--quick");
    RoundResult round = loader.runRound("watch-fanout", Side.VIGIL, 1, "h:1", -1);
    assertEquals("watch-fanout-go", round.scenario());
    assertEquals("events", round.primary().name());
    assertEquals(16_000, round.primary().count());
  }

  @Test
  void aFailingToolFailsTheRoundWithItsOutput() throws Exception {
    GoLoader loader = loader(fakeTool("all-failed.txt", 1), "--quick");
    String why = assertThrows(IllegalStateException.class,
        () -> loader.runRound("put", Side.VIGIL, 1, "h:1", -1)).getMessage();
    assertTrue(why.contains("exited 1") && why.contains("connection refused"), why);
  }

  @Test
  void theDescriptionShowsTheCommand() throws Exception {
    String text = loader(fakeTool("put.txt", 0), "--quick").describe("put");
    assertTrue(text.contains("`benchmark --endpoints=HOST:PORT --precise --clients=16 --conns=2 put --total=800"), text);
  }
}
