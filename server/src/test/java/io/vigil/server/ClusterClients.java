package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Raw gRPC clients of a test's cluster members, closed together, and the requests and checks the cluster tests share. */
final class ClusterClients implements AutoCloseable {
    static final Duration PATIENCE = Duration.ofSeconds(60);

    private final List<ManagedChannel> channels = new ArrayList<>();

    ManagedChannel channel(String endpoint) {
        ManagedChannel c = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
        channels.add(c);
        return c;
    }

    static int awaitLeader(VigilCluster c) {
        int[] leader = {-1};
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(200)).until(() -> (leader[0] = c.agreedLeader()) >= 0);
        return leader[0];
    }

    static PutRequest put(String key, String value) {
        return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)).build();
    }

    static RangeRequest prefix(String p, boolean serializable) {
        return RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8(p))
                .setRangeEnd(ByteString.copyFromUtf8(p.substring(0, p.length() - 1) + (char) (p.charAt(p.length() - 1) + 1)))
                .setSerializable(serializable).build();
    }

    /** A watch of {@code p} from revision 1 on the member at {@code endpoint}. */
    CollectingObserver<WatchResponse> watch(String endpoint, String p) {
        CollectingObserver<WatchResponse> events = new CollectingObserver<>();
        StreamObserver<WatchRequest> requests = WatchGrpc.newStub(channel(endpoint)).watch(events);
        RangeRequest r = prefix(p, false);
        requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                .setKey(r.getKey()).setRangeEnd(r.getRangeEnd()).setStartRevision(1)).build());
        return events;
    }

    /** Takes events from a watch until {@code count} have come; fails on an error or a gap in time. */
    static List<Event> events(CollectingObserver<WatchResponse> watch, int count) throws InterruptedException {
        List<Event> out = new ArrayList<>();
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (out.size() < count) {
            Object o = watch.received.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            assertTrue(o instanceof WatchResponse, "watch ended or stalled after " + out.size() + " events: " + o);
            WatchResponse r = (WatchResponse) o;
            assertTrue(!r.getCanceled(), "watch canceled: " + r);
            out.addAll(r.getEventsList());
        }
        return out;
    }

    static String describe(List<Event> events) {
        StringBuilder sb = new StringBuilder();
        for (Event e : events) {
            sb.append(e.getKv().getKey().toStringUtf8()).append('@').append(e.getKv().getModRevision()).append(' ');
        }
        return sb.toString();
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
    }
}
