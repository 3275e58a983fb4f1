package io.vigil.benchmarks.scenario;

import com.google.protobuf.ByteString;
import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.PutRequest;

/**
 * The data set the maintenance scenarios work on: {@code --maintenance-mb} of 4 KiB values,
 * one key each, written (or overwritten) with 64 puts in flight.
 */
final class MaintenanceData {
  static final int VALUE_BYTES = 4096;
  private static final long WRITE_TIMEOUT_MS = 20 * 60_000L;

  private final Keys keys;
  private final int count;
  private final ByteString value = Payload.filler(VALUE_BYTES);

  MaintenanceData(BenchConfig config, String prefix) {
    this.count = (int) Math.max(1, (long) config.maintenanceMb * 1_000_000 / VALUE_BYTES);
    this.keys = new Keys(prefix, config.keySizeBytes, count);
  }

  int count() {
    return count;
  }

  Keys keys() {
    return keys;
  }

  /** Puts every key once; the revision after the last put. */
  long write(EtcdConnection server) throws InterruptedException {
    Pipeline.run(count, 64, WRITE_TIMEOUT_MS, (slot, i, done) -> server.kv(slot).put(
        PutRequest.newBuilder().setKey(keys.key(i)).setValue(value).build(), done.observer()));
    return server.kvBlocking(0).put(PutRequest.newBuilder().setKey(keys.key(0)).setValue(value).build())
        .getHeader().getRevision();
  }

  String describe() {
    return count + " keys of " + VALUE_BYTES + " B values (" + (long) count * VALUE_BYTES / 1_000_000 + " MB)";
  }
}
