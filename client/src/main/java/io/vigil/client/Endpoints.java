package io.vigil.client;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The members a client talks to, one gRPC channel (one HTTP/2 connection) each, and which of
 * them calls go to. Reads and watches use the preferred member and move on to the next when it
 * fails; writes go to the leader when one is known (a follower would forward them: one hop
 * less), else to the preferred member.
 *
 * <p>Thread-safe: the choices are single volatile indexes; a stale choice only costs a retry or
 * a forwarded write.
 */
final class Endpoints implements AutoCloseable {
    private final List<String> targets;
    private final List<ManagedChannel> channels;
    private volatile int preferred;
    /** The leader's index, or -1 when unknown. */
    private volatile int leader = -1;

    Endpoints(List<String> endpoints) {
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("at least one endpoint is needed");
        }
        targets = new ArrayList<>();
        channels = new ArrayList<>();
        for (String e : endpoints) {
            String target = hostPort(e);
            targets.add(target);
            channels.add(NettyChannelBuilder.forTarget(target).usePlaintext()
                    .keepAliveTime(30, TimeUnit.SECONDS).keepAliveTimeout(10, TimeUnit.SECONDS)
                    .maxInboundMessageSize(Integer.MAX_VALUE).build());
        }
    }

    /** {@code host:port} from {@code host:port} or {@code http://host:port}. */
    static String hostPort(String endpoint) {
        if (endpoint.contains("://")) {
            URI u = URI.create(endpoint);
            if (!"http".equals(u.getScheme())) {
                throw new IllegalArgumentException("only http:// endpoints are supported yet: " + endpoint);
            }
            return u.getHost() + ":" + u.getPort();
        }
        return endpoint;
    }

    int size() {
        return channels.size();
    }

    ManagedChannel channel(int index) {
        return channels.get(index);
    }

    String target(int index) {
        return targets.get(index);
    }

    /** The member reads and watches go to. */
    int preferred() {
        return preferred;
    }

    /** The member writes go to. */
    int forWrite() {
        int l = leader;
        return l >= 0 ? l : preferred;
    }

    /** {@code failed} failed a call: later calls prefer the next member (unless another call moved on already). */
    void failed(int failed) {
        if (preferred == failed) {
            preferred = (failed + 1) % channels.size();
        }
        if (leader == failed) {
            leader = -1;
        }
    }

    void leaderIs(int index) {
        leader = index;
    }

    @Override
    public void close() {
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels) {
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
