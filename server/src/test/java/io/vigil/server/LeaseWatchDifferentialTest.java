package io.vigil.server;

import static io.vigil.server.CrashRecoveryTest.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.TextFormat;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A watcher with prev_kv sees a lease's keys go, on a real etcd 3.4 and on Vigil alike: a client
 * revoke deletes both attached keys in one revision, an expiry deletes the attached key, and each
 * DELETE event carries the key as it was (lease included). Lease IDs are chosen by the client, so
 * the events are identical on both servers.
 */
class LeaseWatchDifferentialTest {
    private static final long WAIT_SECONDS = 60;

    @TempDir
    Path tmp;

    @Test
    void watchersSeeRevokedAndExpiredKeysDeletedWithPrevKv() throws Exception {
        BothServers.Results<List<String>> results = BothServers.run(tmp, LeaseWatchDifferentialTest::session);
        List<String> expected = results.etcd();
        List<String> actual = results.vigil();
        assertTrue(expected.stream().filter(e -> e.startsWith("DELETE")).count() == 3, String.join("\n", expected));
        assertEquals(String.join("\n", expected), String.join("\n", actual));
    }

    /** The events a prefix watcher with prev_kv sees, one line each, until the END key. */
    private static List<String> session(String endpoint) throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
        try {
            CollectingObserver<WatchResponse> responses = new CollectingObserver<>();
            LinkedBlockingQueue<Object> received = responses.received;
            StreamObserver<WatchRequest> watch = WatchGrpc.newStub(channel).watch(responses);
            watch.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                    .setKey(bytes("svc/")).setRangeEnd(bytes("svc0")).setPrevKv(true)).build());
            Object created = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(created instanceof WatchResponse w && w.getCreated(), "watch created: " + created);

            LeaseGrpc.LeaseBlockingStub lease = LeaseGrpc.newBlockingStub(channel).withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS);
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel).withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS);
            lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(77).setTTL(1000).build());
            kv.put(put("svc/a", "1", 77));
            kv.put(put("svc/b", "2", 77));
            kv.put(put("svc/c", "3", 0));
            lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(77).build());
            // the minimum TTL; expiry deletes svc/d, and only then comes END
            lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(78).setTTL(1).build());
            kv.put(put("svc/d", "4", 78));

            List<String> events = new ArrayList<>();
            boolean expired = false;
            while (true) {
                Object r = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                if (!(r instanceof WatchResponse w)) {
                    events.add("stream ended: " + r);
                    return events;
                }
                for (Event e : w.getEventsList()) {
                    events.add(e.getType() + " " + TextFormat.printer().shortDebugString(e.toBuilder().clearType().build()));
                    if (e.getKv().getKey().equals(bytes("svc/d")) && e.getType() == Event.EventType.DELETE) {
                        expired = true;
                    }
                    if (e.getKv().getKey().equals(bytes("svc/end"))) {
                        watch.onCompleted();
                        return events;
                    }
                }
                if (expired) {
                    kv.put(put("svc/end", "", 0));
                    expired = false;
                }
            }
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static PutRequest put(String key, String value, long lease) {
        return PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).setLease(lease).build();
    }
}
