package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.v3electionpb.ElectionGrpc;
import io.vigil.proto.v3electionpb.LeaderRequest;
import io.vigil.proto.v3electionpb.LeaderResponse;
import io.vigil.proto.v3lockpb.LockGrpc;
import io.vigil.proto.v3lockpb.LockRequest;
import io.vigil.proto.v3lockpb.LockResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member that is told to stop (SIGTERM) ends its open streams (watch, keep-alive, Observe) and
 * its waiting Lock calls with UNAVAILABLE, the status etcd's clients retry, not with the
 * CANCELLED that would end their watches for good.
 */
class StoppingTest {
    @TempDir
    Path dir;

    @Test
    void streamsEndWithUnavailableWhenTheMemberStops() throws Exception {
        VigilProcess vigil = VigilProcess.start(dir);
        ManagedChannel channel = NettyChannelBuilder.forTarget(vigil.endpoint()).usePlaintext().build();
        try {
            CollectingObserver<WatchResponse> watch = new CollectingObserver<>();
            StreamObserver<WatchRequest> requests = WatchGrpc.newStub(channel).watch(watch);
            requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8("k"))).build());
            Object created = watch.received.poll(30, TimeUnit.SECONDS);
            assertTrue(created instanceof WatchResponse r && r.getCreated(), "created: " + created);
            CollectingObserver<LeaseKeepAliveResponse> keepAlive = new CollectingObserver<>();
            StreamObserver<LeaseKeepAliveRequest> keepAlives = LeaseGrpc.newStub(channel).leaseKeepAlive(keepAlive);
            keepAlives.onNext(LeaseKeepAliveRequest.newBuilder().setID(1).build());
            assertTrue(keepAlive.received.poll(30, TimeUnit.SECONDS) instanceof LeaseKeepAliveResponse);
            // a Lock that waits behind a holder, and an Observe with no leader yet: long calls too
            LockGrpc.LockBlockingStub locks = LockGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            LeaseGrpc.LeaseBlockingStub leases = LeaseGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            ByteString name = ByteString.copyFromUtf8("lock");
            locks.lock(LockRequest.newBuilder().setName(name)
                    .setLease(leases.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(600).build()).getID()).build());
            CollectingObserver<LockResponse> waitingLock = new CollectingObserver<>();
            LockGrpc.newStub(channel).lock(LockRequest.newBuilder().setName(name)
                    .setLease(leases.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(600).build()).getID()).build(), waitingLock);
            CollectingObserver<LeaderResponse> observe = new CollectingObserver<>();
            ElectionGrpc.newStub(channel).observe(LeaderRequest.newBuilder().setName(ByteString.copyFromUtf8("election"))
                    .build(), observe);
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> kv.range(
                    RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("lock/"))
                            .setRangeEnd(ByteString.copyFromUtf8("lock0")).build()).getCount() == 2);

            vigil.close();

            assertUnavailable(watch.received.poll(30, TimeUnit.SECONDS));
            assertUnavailable(keepAlive.received.poll(30, TimeUnit.SECONDS));
            assertUnavailable(waitingLock.received.poll(30, TimeUnit.SECONDS));
            assertUnavailable(observe.received.poll(30, TimeUnit.SECONDS));
        } finally {
            channel.shutdownNow();
            vigil.close();
        }
    }

    private static void assertUnavailable(Object ended) {
        assertTrue(ended instanceof StatusRuntimeException, "the stream ended with " + ended);
        assertEquals(Status.Code.UNAVAILABLE, ((StatusRuntimeException) ended).getStatus().getCode(), String.valueOf(ended));
    }
}
