package io.vigil.robustness.traffic;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The cluster's client endpoints (host:port, plaintext) and one gRPC channel per endpoint, shared
 * by every client and watcher of the run. The member set is read from the harness's supplier at
 * every choice, so a member the nemesis removed stops being chosen and one it added starts being.
 */
final class Members implements AutoCloseable {
    /** A reconnect attempt at most this often per channel, however often callers ask. */
    private static final long RECONNECT_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final Supplier<List<String>> endpoints;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Map<String, Long> lastReconnect = new ConcurrentHashMap<>();
    private volatile boolean closed;

    Members(Supplier<List<String>> endpoints) {
        this.endpoints = endpoints;
    }

    /** The current members' endpoints, in the supplier's order; never empty. */
    List<String> current() {
        List<String> now = List.copyOf(endpoints.get());
        if (now.isEmpty()) {
            throw new IllegalStateException("the cluster has no client endpoints");
        }
        return now;
    }

    boolean isMember(String endpoint) {
        return endpoints.get().contains(endpoint);
    }

    /**
     * The member after {@code endpoint} in the current order (round-robin), or the first when
     * {@code endpoint} is no longer a member.
     */
    String after(String endpoint) {
        List<String> now = current();
        int i = now.indexOf(endpoint);
        return now.get((i + 1) % now.size());
    }

    /**
     * The channel to {@code endpoint}, made on first use. A channel in TRANSIENT_FAILURE waits out
     * gRPC's growing reconnect backoff (up to minutes), longer than a killed member stays down;
     * asking for it resets that backoff so a restarted member is reached again within
     * {@link #RECONNECT_NANOS}.
     */
    ManagedChannel channel(String endpoint) {
        if (closed) {
            throw new IllegalStateException("members closed");
        }
        ManagedChannel channel = channels.computeIfAbsent(endpoint, Members::open);
        if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
            long now = System.nanoTime();
            Long last = lastReconnect.get(endpoint);
            if (last == null || now - last > RECONNECT_NANOS) {
                lastReconnect.put(endpoint, now);
                channel.resetConnectBackoff();
            }
        }
        return channel;
    }

    private static ManagedChannel open(String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("endpoint is not host:port: " + endpoint);
        }
        return NettyChannelBuilder.forAddress(endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1)))
                .usePlaintext()
                // a member paused or cut off must not hold a watch stream forever without notice;
                // etcd's server accepts pings every 5 s (--grpc-keepalive-min-time)
                .keepAliveTime(10, TimeUnit.SECONDS)
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                .maxInboundMessageSize(64 * 1024 * 1024)
                .build();
    }

    /** Shuts every channel down (cancelling what is still in flight) and waits for them. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        List<ManagedChannel> all = new ArrayList<>(channels.values());
        all.forEach(ManagedChannel::shutdownNow);
        for (ManagedChannel c : all) {
            c.awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
