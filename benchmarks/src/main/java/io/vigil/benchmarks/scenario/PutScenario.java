package io.vigil.benchmarks.scenario;

import com.google.protobuf.ByteString;
import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.PutRequest;
import java.util.List;

/** {@code put}: closed-loop puts of random keys from the key space. */
final class PutScenario implements Scenario {
  private final BenchConfig config;
  private final Keys keys;
  private final ByteString value;
  private final ClientRandoms randoms;

  PutScenario(BenchConfig config, String prefix) {
    this.config = config;
    this.keys = new Keys(prefix, config.keySizeBytes, config.keySpace);
    this.value = Payload.filler(config.valueSizeBytes);
    this.randoms = new ClientRandoms(config.seed, config.clients);
  }

  @Override
  public String name() {
    return "put";
  }

  @Override
  public String describe() {
    return config.clients + " clients on " + config.connections + " connections, key " + config.keySizeBytes
        + " B, value " + config.valueSizeBytes + " B, " + config.keySpace + " keys";
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws InterruptedException {
    AsyncRequest put = (client, seq, done) -> server.kv(client).put(PutRequest.newBuilder()
        .setKey(keys.key(randoms.nextInt(client, config.keySpace)))
        .setValue(value)
        .build(), done.observer());
    return List.of(new ClosedLoopDriver(config.clients, config.rpcTimeoutMs)
        .run(window, window.recorder("put", true), put));
  }
}
