package io.vigil.benchmarks.scenario;

import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.PutRequest;
import java.util.Base64;
import java.util.List;

/**
 * {@code json-put} / {@code json-range}: the put and linearizable-range workloads of
 * {@link PutScenario} and {@link RangeScenario} (same keys, values, key space, span, clients)
 * through the JSON gateway on the client port (etcd 3.4's grpc-gateway, {@code POST /v3/kv/put},
 * {@code /v3/kv/range}) instead of gRPC: closed-loop, one HTTP/1.1 keep-alive connection per
 * client ({@link JsonClients}), a request done when its whole 200 answer has arrived.
 */
final class JsonScenario implements Scenario {
  private static final Base64.Encoder B64 = Base64.getEncoder();

  private final BenchConfig config;
  private final boolean put;
  private final Keys keys;
  private final String value;
  private final ClientRandoms randoms;

  JsonScenario(BenchConfig config, String prefix, boolean put) {
    this.config = config;
    this.put = put;
    this.keys = new Keys(prefix, config.keySizeBytes, config.keySpace + 1L);
    this.value = B64.encodeToString(Payload.filler(config.valueSizeBytes).toByteArray());
    this.randoms = new ClientRandoms(config.seed, config.clients);
  }

  @Override
  public String name() {
    return put ? "json-put" : "json-range";
  }

  @Override
  public String describe() {
    return config.clients + " clients on as many HTTP/1.1 keep-alive connections, key " + config.keySizeBytes + " B, "
        + (put ? "value " + config.valueSizeBytes + " B, " + config.keySpace + " keys"
            : config.rangeKeysPerOp + " key(s) per linearizable range over " + config.keySpace + " keys of "
                + config.valueSizeBytes + " B");
  }

  @Override
  public void prepare(EtcdConnection server) throws InterruptedException {
    if (!put) {
      var filler = Payload.filler(config.valueSizeBytes);
      Pipeline.run(config.keySpace, 64, 10 * 60_000L, (slot, i, done) -> server.kv(slot).put(
          PutRequest.newBuilder().setKey(keys.key(i)).setValue(filler).build(), done.observer()));
    }
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws InterruptedException {
    int span = config.rangeKeysPerOp;
    try (JsonClients http = new JsonClients(server.endpoint(), config.clients)) {
      AsyncRequest request = put
          ? (client, seq, done) -> http.post(client, "/v3/kv/put", "{\"key\":\"" + key(randoms.nextInt(client, config.keySpace))
              + "\",\"value\":\"" + value + "\"}", done)
          : (client, seq, done) -> {
            int start = randoms.nextInt(client, config.keySpace - span + 1);
            http.post(client, "/v3/kv/range", "{\"key\":\"" + key(start) + "\""
                + (span > 1 ? ",\"range_end\":\"" + key(start + span) + "\"" : "") + "}", done);
          };
      return List.of(new ClosedLoopDriver(config.clients, config.rpcTimeoutMs)
          .run(window, window.recorder(put ? "put" : "range", true), request));
    }
  }

  private String key(long index) {
    return B64.encodeToString(keys.key(index).toByteArray());
  }
}
