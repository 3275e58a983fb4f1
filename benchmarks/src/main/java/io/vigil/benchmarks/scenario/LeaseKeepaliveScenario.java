package io.vigil.benchmarks.scenario;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantResponse;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * {@code lease-keepalive}: {@code --leases} leases are granted once; each round,
 * {@code --keepalive-streams} LeaseKeepAlive streams renew them in turn, one request in flight
 * per stream (closed loop). A reply with TTL ≤ 0 (lease gone) counts as an error.
 */
final class LeaseKeepaliveScenario implements Scenario {
  private final BenchConfig config;
  private final AtomicLongArray leaseIds;

  LeaseKeepaliveScenario(BenchConfig config) {
    this.config = config;
    this.leaseIds = new AtomicLongArray(config.leases);
  }

  @Override
  public String name() {
    return "lease-keepalive";
  }

  @Override
  public String describe() {
    return config.leases + " leases (TTL " + config.leaseTtlS + " s) renewed over " + config.keepaliveStreams
        + " streams on " + config.connections + " connections";
  }

  @Override
  public void prepare(EtcdConnection server) throws InterruptedException {
    Pipeline.run(config.leases, 32, 10 * 60_000L, (slot, i, done) ->
        LeaseGrpc.newStub(server.channel(slot)).leaseGrant(
            LeaseGrantRequest.newBuilder().setTTL(config.leaseTtlS).build(),
            new StreamObserver<>() {
              @Override
              public void onNext(LeaseGrantResponse response) {
                leaseIds.set((int) i, response.getID());
              }

              @Override
              public void onError(Throwable error) {
                done.failed(error);
              }

              @Override
              public void onCompleted() {
                done.succeeded();
              }
            }));
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws InterruptedException {
    List<KeepAliveStream> streams = new ArrayList<>();
    for (int s = 0; s < config.keepaliveStreams; s++) {
      streams.add(new KeepAliveStream(server, s));
    }
    try {
      int perStream = config.leases / config.keepaliveStreams;
      AsyncRequest keepAlive = (client, seq, done) -> {
        // stream `client` renews leases client, client + streams, client + 2 * streams, ...
        long turn = seq / config.keepaliveStreams;
        int lease = (int) (client + (turn % perStream) * config.keepaliveStreams);
        streams.get(client).send(leaseIds.get(lease), done);
      };
      return List.of(new ClosedLoopDriver(config.keepaliveStreams, config.rpcTimeoutMs)
          .run(window, window.recorder("keepalive", true), keepAlive));
    } finally {
      streams.forEach(KeepAliveStream::close);
    }
  }

  /** Revokes the leases; one that already expired (NOT_FOUND) is gone as wanted. */
  @Override
  public void finish(EtcdConnection server) throws InterruptedException {
    Pipeline.run(config.leases, 32, 10 * 60_000L, (slot, i, done) ->
        LeaseGrpc.newStub(server.channel(slot)).leaseRevoke(
            LeaseRevokeRequest.newBuilder().setID(leaseIds.get((int) i)).build(), new StreamObserver<>() {
              @Override
              public void onNext(LeaseRevokeResponse response) {}

              @Override
              public void onError(Throwable error) {
                if (Status.fromThrowable(error).getCode() == Status.Code.NOT_FOUND) {
                  done.succeeded();
                } else {
                  done.failed(error);
                }
              }

              @Override
              public void onCompleted() {
                done.succeeded();
              }
            }));
  }

  /** One keep-alive stream with at most one request in flight, so replies match requests in order. */
  private static final class KeepAliveStream implements StreamObserver<LeaseKeepAliveResponse> {
    private final StreamObserver<LeaseKeepAliveRequest> requests;
    private volatile Completion pending;
    private volatile Throwable broken;

    KeepAliveStream(EtcdConnection server, int index) {
      this.requests = server.leaseStreaming(index).leaseKeepAlive(this);
    }

    void send(long leaseId, Completion done) {
      if (broken != null) {
        done.failed(broken);
        return;
      }
      pending = done;
      requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(leaseId).build());
    }

    @Override
    public void onNext(LeaseKeepAliveResponse response) {
      Completion done = pending;
      pending = null;
      if (done == null) {
        return;
      }
      if (response.getTTL() <= 0) {
        done.failed(new IllegalStateException("lease " + response.getID() + " not found or expired"));
      } else {
        done.succeeded();
      }
    }

    @Override
    public void onError(Throwable error) {
      broken = error;
      Completion done = pending;
      pending = null;
      if (done != null) {
        done.failed(error);
      }
    }

    @Override
    public void onCompleted() {
      onError(new IllegalStateException("keep-alive stream closed by the server"));
    }

    void close() {
      ((ClientCallStreamObserver<LeaseKeepAliveRequest>) requests).cancel("benchmark round over", null);
    }
  }
}
