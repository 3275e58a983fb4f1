package io.vigil.benchmarks.scenario;

import com.google.protobuf.ByteString;
import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import java.util.List;

/**
 * {@code txn-put}: closed-loop txns without compares whose success branch puts
 * {@code --txn-ops} distinct consecutive keys (etcd's own benchmark tool does the same).
 */
final class TxnPutScenario implements Scenario {
  private final BenchConfig config;
  private final Keys keys;
  private final ByteString value;
  private final ClientRandoms randoms;

  TxnPutScenario(BenchConfig config, String prefix) {
    this.config = config;
    this.keys = new Keys(prefix, config.keySizeBytes, config.keySpace);
    this.value = Payload.filler(config.valueSizeBytes);
    this.randoms = new ClientRandoms(config.seed, config.clients);
  }

  @Override
  public String name() {
    return "txn-put";
  }

  @Override
  public String describe() {
    return config.clients + " clients on " + config.connections + " connections, " + config.txnOps
        + " put(s) per txn, value " + config.valueSizeBytes + " B, " + config.keySpace + " keys";
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws InterruptedException {
    AsyncRequest txn = (client, seq, done) -> {
      int start = randoms.nextInt(client, config.keySpace - config.txnOps + 1);
      TxnRequest.Builder request = TxnRequest.newBuilder();
      for (int i = 0; i < config.txnOps; i++) {
        request.addSuccess(RequestOp.newBuilder().setRequestPut(
            PutRequest.newBuilder().setKey(keys.key(start + i)).setValue(value)));
      }
      server.kv(client).txn(request.build(), done.observer());
    };
    return List.of(new ClosedLoopDriver(config.clients, config.rpcTimeoutMs)
        .run(window, window.recorder("txn", true), txn));
  }
}
