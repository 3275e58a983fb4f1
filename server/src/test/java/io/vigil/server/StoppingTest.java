package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member that is told to stop (SIGTERM) ends its open streams with UNAVAILABLE, the status
 * etcd's clients retry, not with the CANCELLED that would end their watches for good.
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

            vigil.close();

            assertUnavailable(watch.received.poll(30, TimeUnit.SECONDS));
            assertUnavailable(keepAlive.received.poll(30, TimeUnit.SECONDS));
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
