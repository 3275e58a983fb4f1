package io.vigil.benchmarks.ceiling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.KeyValue;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The instrument answers a real grpc-java etcd client as the watch-fanout scenario needs. */
class GrpcCeilingServerTest {
  private static final ByteString K1 = ByteString.copyFromUtf8("k1");
  private static final ByteString K2 = ByteString.copyFromUtf8("k2");

  private GrpcCeilingServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    server = GrpcCeilingServer.start(new InetSocketAddress("127.0.0.1", 0));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void everyWatcherOfAKeyGetsItsPutsInRevisionOrderUntilItsStreamEnds() throws Exception {
    Stream a = new Stream();
    Stream b = new Stream();
    long a0 = a.create(K1);
    long a1 = a.create(K1);
    long b0 = b.create(K2);
    assertEquals(0, a0);
    assertEquals(1, a1);
    assertEquals(0, b0);

    long r1 = put(K1, "v1");
    long r2 = put(K2, "v2");
    long r3 = put(K1, "v3");
    assertTrue(r1 < r2 && r2 < r3);

    for (long id : new long[] {a0, a1}) {
      assertEvent(a.next(), id, r1, K1, "v1", r1, 1);
    }
    for (long id : new long[] {a0, a1}) {
      assertEvent(a.next(), id, r3, K1, "v3", r1, 2);
    }
    assertEvent(b.next(), b0, r2, K2, "v2", r2, 1);

    a.cancel();
    long r4 = put(K2, "v4");
    assertEvent(b.next(), b0, r4, K2, "v4", r2, 2);
    put(K1, "after a's stream ended");
    assertNull(b.responses.poll(200, TimeUnit.MILLISECONDS), "b watches only k2");
  }

  @Test
  void whatItDoesNotMeasureIsUnimplemented() throws Exception {
    Stream s = new Stream();
    s.requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
        .setKey(K1).setRangeEnd(ByteString.copyFromUtf8("k9"))).build());
    assertEquals(Status.Code.UNIMPLEMENTED, s.failure().getCode());

    StatusRuntimeException range = assertThrows(StatusRuntimeException.class,
        () -> KVGrpc.newBlockingStub(channel).range(RangeRequest.newBuilder().setKey(K1).build()));
    assertEquals(Status.Code.UNIMPLEMENTED, range.getStatus().getCode());
  }

  private long put(ByteString key, String value) {
    return KVGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
        .put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFromUtf8(value)).build())
        .getHeader().getRevision();
  }

  private static void assertEvent(WatchResponse r, long watchId, long revision, ByteString key, String value,
      long createRevision, long version) {
    assertEquals(watchId, r.getWatchId());
    assertEquals(revision, r.getHeader().getRevision());
    assertEquals(1, r.getEventsCount());
    KeyValue kv = r.getEvents(0).getKv();
    assertEquals(key, kv.getKey());
    assertEquals(value, kv.getValue().toStringUtf8());
    assertEquals(revision, kv.getModRevision());
    assertEquals(createRevision, kv.getCreateRevision());
    assertEquals(version, kv.getVersion());
  }

  private final class Stream {
    final BlockingQueue<WatchResponse> responses = new LinkedBlockingQueue<>();
    final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
    final StreamObserver<WatchRequest> requests = WatchGrpc.newStub(channel).watch(new StreamObserver<>() {
      @Override
      public void onNext(WatchResponse value) {
        responses.add(value);
      }

      @Override
      public void onError(Throwable t) {
        failures.add(t);
      }

      @Override
      public void onCompleted() {}
    });

    long create(ByteString key) throws InterruptedException {
      requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(key)).build());
      WatchResponse created = next();
      assertTrue(created.getCreated());
      return created.getWatchId();
    }

    WatchResponse next() throws InterruptedException {
      WatchResponse r = responses.poll(5, TimeUnit.SECONDS);
      if (r == null) {
        throw new AssertionError("no response within 5 s; failures: " + failures);
      }
      return r;
    }

    Status failure() throws InterruptedException {
      Throwable t = failures.poll(5, TimeUnit.SECONDS);
      if (t == null) {
        throw new AssertionError("the stream did not fail within 5 s");
      }
      return Status.fromThrowable(t);
    }

    void cancel() {
      ((ClientCallStreamObserver<WatchRequest>) requests).cancel("done", null);
    }
  }
}
