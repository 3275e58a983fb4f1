package io.vigil.benchmarks.scenario;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantResponse;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code lease-expiry}: the write latency impact of a mass expiry. Each round grants
 * {@code --expiry-leases} leases of {@code --expiry-ttl-s} with one key each, as fast as the
 * server takes them, then lets them all expire while {@code --clients} closed loops put. The
 * window opens one second (plus warm-up) before the first lease is due, so {@code put} is the
 * write latency across the expiry; compare it with the {@code put} scenario of the same run.
 * {@code expired} counts the attached keys deleted by expiry within the window; its rate is keys
 * over the time from the first lease due to the last key gone (errors: keys left at the end).
 * Size {@code --duration-ms} to cover the revocation: etcd revokes at most 1000 leases/s.
 */
final class LeaseExpiryScenario implements Scenario {
  private static final long POLL_MS = 100;

  private final BenchConfig config;
  private final Keys leased;
  private final Keys written;
  private final ByteString value;
  private final ClientRandoms randoms;
  private int round;

  LeaseExpiryScenario(BenchConfig config, String prefix) {
    this.config = config;
    this.leased = new Keys(prefix + "l/", config.keySizeBytes, (long) config.expiryLeases * config.rounds);
    this.written = new Keys(prefix + "p/", config.keySizeBytes, config.keySpace);
    this.value = Payload.filler(config.valueSizeBytes);
    this.randoms = new ClientRandoms(config.seed, config.clients);
  }

  @Override
  public String name() {
    return "lease-expiry";
  }

  @Override
  public String describe() {
    return config.expiryLeases + " leases (TTL " + config.expiryTtlS + " s, one key each) expire while "
        + config.clients + " clients put on " + config.connections + " connections";
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws Exception {
    long first = (long) round++ * config.expiryLeases;
    long grantStart = System.nanoTime();
    long firstDue = grantStart + TimeUnit.SECONDS.toNanos(config.expiryTtlS);
    Pipeline.run(config.expiryLeases, 64, TimeUnit.SECONDS.toMillis(config.expiryTtlS), (slot, i, done) ->
        LeaseGrpc.newStub(server.channel(slot)).leaseGrant(
            LeaseGrantRequest.newBuilder().setTTL(config.expiryTtlS).build(), new StreamObserver<>() {
              @Override
              public void onNext(LeaseGrantResponse granted) {
                server.kv(slot).put(PutRequest.newBuilder().setKey(leased.key(first + i)).setValue(value)
                    .setLease(granted.getID()).build(), done.observer());
              }

              @Override
              public void onError(Throwable error) {
                done.failed(error);
              }

              @Override
              public void onCompleted() {}
            }));
    long openAt = firstDue - TimeUnit.SECONDS.toNanos(1) - TimeUnit.MILLISECONDS.toNanos(config.warmupMs);
    if (System.nanoTime() > openAt) {
      throw new IllegalStateException("granting " + config.expiryLeases + " leases took longer than their TTL allows;"
          + " raise --expiry-ttl-s above " + config.expiryTtlS);
    }
    TimeUnit.NANOSECONDS.sleep(openAt - System.nanoTime());

    ByteString from = leased.key(first);
    ByteString to = leased.key(first + config.expiryLeases);
    AtomicLong left = new AtomicLong(config.expiryLeases);
    AtomicLong goneAt = new AtomicLong();
    Thread poller = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        try {
          long n = server.kvBlocking(0).range(RangeRequest.newBuilder().setKey(from).setRangeEnd(to)
              .setCountOnly(true).build()).getCount();
          left.set(n);
          if (n == 0) {
            goneAt.set(System.nanoTime());
            return;
          }
          Thread.sleep(POLL_MS);
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          // a slow count under load: try again
        }
      }
    }, "lease-expiry-poller");
    poller.start();
    AsyncRequest put = (client, seq, done) -> server.kv(client).put(PutRequest.newBuilder()
        .setKey(written.key(randoms.nextInt(client, config.keySpace)))
        .setValue(value)
        .build(), done.observer());
    Measure puts = new ClosedLoopDriver(config.clients, config.rpcTimeoutMs).run(window, window.recorder("put", true), put);
    poller.interrupt();
    poller.join(TimeUnit.SECONDS.toMillis(30));
    long end = goneAt.get() != 0 ? goneAt.get() : window.openedNs() + window.elapsedNs();
    long remaining = goneAt.get() != 0 ? 0 : left.get();
    Measure expired = new Measure("expired", config.expiryLeases - remaining, remaining,
        Math.max(0, end - firstDue), Measure.newHistogram());
    return List.of(puts, expired);
  }
}
