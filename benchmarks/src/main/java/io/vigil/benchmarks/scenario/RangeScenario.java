package io.vigil.benchmarks.scenario;

import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import java.util.List;

/**
 * {@code range-linearizable} / {@code range-serializable}: closed-loop reads of
 * {@code --range-keys-per-op} consecutive keys at a random start, over a pre-filled key space.
 */
final class RangeScenario implements Scenario {
  private final BenchConfig config;
  private final boolean serializable;
  private final Keys keys;
  private final ClientRandoms randoms;

  RangeScenario(BenchConfig config, String prefix, boolean serializable) {
    this.config = config;
    this.serializable = serializable;
    this.keys = new Keys(prefix, config.keySizeBytes, config.keySpace + 1L);
    this.randoms = new ClientRandoms(config.seed, config.clients);
  }

  @Override
  public String name() {
    return serializable ? "range-serializable" : "range-linearizable";
  }

  @Override
  public String describe() {
    return config.clients + " clients on " + config.connections + " connections, " + config.rangeKeysPerOp
        + " key(s) per range over " + config.keySpace + " keys of " + config.valueSizeBytes + " B";
  }

  @Override
  public void prepare(EtcdConnection server) throws InterruptedException {
    var value = Payload.filler(config.valueSizeBytes);
    Pipeline.run(config.keySpace, 64, 10 * 60_000L, (slot, i, done) -> server.kv(slot).put(
        PutRequest.newBuilder().setKey(keys.key(i)).setValue(value).build(), done.observer()));
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws InterruptedException {
    int span = config.rangeKeysPerOp;
    AsyncRequest range = (client, seq, done) -> {
      int start = randoms.nextInt(client, config.keySpace - span + 1);
      RangeRequest.Builder request = RangeRequest.newBuilder()
          .setKey(keys.key(start))
          .setSerializable(serializable);
      if (span > 1) {
        request.setRangeEnd(keys.key(start + span));
      }
      server.kv(client).range(request.build(), done.observer());
    };
    return List.of(new ClosedLoopDriver(config.clients, config.rpcTimeoutMs)
        .run(window, window.recorder("range", true), range));
  }
}
