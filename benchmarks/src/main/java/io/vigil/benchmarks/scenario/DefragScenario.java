package io.vigil.benchmarks.scenario;

import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.LatencyRecorder;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DefragmentRequest;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import java.util.List;

/**
 * {@code defrag} (only when named): the pause a defragmentation costs writers. Before each
 * round the whole {@code --maintenance-mb} data set is overwritten and compacted, so half the
 * store is free pages; in the window {@code --clients} closed loops put small values to their own
 * keys, and one second in, one {@code Maintenance.Defragment} runs. Headline {@code defrag}: the
 * time of that call; {@code put}: the writers' latencies over the window, whose max is the pause
 * they saw.
 */
final class DefragScenario implements Scenario {
  private static final long DEFRAG_AFTER_MS = 1000;

  private final BenchConfig config;
  private final MaintenanceData data;
  private final Keys writerKeys;

  DefragScenario(BenchConfig config, String prefix) {
    this.config = config;
    this.data = new MaintenanceData(config, prefix + "d/");
    this.writerKeys = new Keys(prefix + "w/", config.keySizeBytes, config.clients);
  }

  @Override
  public String name() {
    return "defrag";
  }

  @Override
  public String describe() {
    return "one defragmentation of a store holding " + data.describe() + ", overwritten and compacted before, while "
        + config.clients + " clients put " + config.valueSizeBytes + " B values";
  }

  @Override
  public void prepare(EtcdConnection server) throws InterruptedException {
    data.write(server);
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws Exception {
    long head = data.write(server);
    server.kvBlocking(0).compact(CompactionRequest.newBuilder().setRevision(head).setPhysical(true).build());
    LatencyRecorder defrags = window.recorder("defrag", false);
    var value = Payload.filler(config.valueSizeBytes);
    Thread defrag = new Thread(() -> {
      try {
        while (!window.isOpen()) {
          Thread.sleep(1);
        }
        Thread.sleep(DEFRAG_AFTER_MS);
        long started = System.nanoTime();
        MaintenanceGrpc.newBlockingStub(server.channel(0)).defragment(DefragmentRequest.getDefaultInstance());
        defrags.recordNs(System.nanoTime() - started);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        defrags.recordError(e);
      }
    }, "bench-defrag");
    defrag.start();
    Measure puts = new ClosedLoopDriver(config.clients, config.rpcTimeoutMs).run(window, window.recorder("put", true),
        (client, seq, done) -> server.kv(client).put(PutRequest.newBuilder()
            .setKey(writerKeys.key(client)).setValue(value).build(), done.observer()));
    defrag.join();
    Measure defragMeasure = defrags.toMeasure(window.elapsedNs());
    if (defragMeasure.count() == 0 && defragMeasure.errors() == 0) {
      defrags.recordErrors(1, "the defragmentation did not finish inside the window: lengthen --duration-ms");
      defragMeasure = defrags.toMeasure(window.elapsedNs());
    }
    return List.of(defragMeasure, puts);
  }
}
