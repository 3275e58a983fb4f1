package io.vigil.benchmarks.scenario;

import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.LatencyRecorder;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.SnapshotRequest;
import io.vigil.proto.etcdserverpb.SnapshotResponse;
import java.util.Iterator;
import java.util.List;

/**
 * {@code snapshot-save} (only when named): what {@code etcdctl snapshot save} does, back to back
 * for the window, over a store of {@code --maintenance-mb}: one {@code Maintenance.Snapshot}
 * stream read to its end. Headline {@code save-kB}: kilobytes (1000 B) received per second, so
 * its rate ÷ 1000 is MB/s; its latency is the time of one whole snapshot.
 */
final class SnapshotSaveScenario implements Scenario {
  private final BenchConfig config;
  private final MaintenanceData data;

  SnapshotSaveScenario(BenchConfig config, String prefix) {
    this.config = config;
    this.data = new MaintenanceData(config, prefix);
  }

  @Override
  public String name() {
    return "snapshot-save";
  }

  @Override
  public String describe() {
    return "snapshots of a store holding " + data.describe() + ", one at a time";
  }

  @Override
  public void prepare(EtcdConnection server) throws InterruptedException {
    data.write(server);
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) {
    LatencyRecorder saves = window.recorder("save", true);
    long bytes = 0;
    window.open();
    do {
      long started = System.nanoTime();
      try {
        Iterator<SnapshotResponse> stream = MaintenanceGrpc.newBlockingStub(server.channel(0))
            .snapshot(SnapshotRequest.getDefaultInstance());
        while (stream.hasNext()) {
          bytes += stream.next().getBlob().size();
        }
        saves.recordNs(System.nanoTime() - started);
      } catch (RuntimeException e) {
        saves.recordError(e);
      }
    } while (window.elapsedNs() < window.durationMs() * 1_000_000L && saves.toMeasure(1).errors() < 3);
    window.close();
    Measure perSnapshot = saves.toMeasure(window.elapsedNs());
    return List.of(new Measure("save-kB", bytes / 1000, perSnapshot.errors(), window.elapsedNs(), perSnapshot.latencyNs()));
  }
}
