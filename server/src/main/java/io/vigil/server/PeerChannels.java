package io.vigil.server;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * gRPC channels to other members' peer URLs, for the calls a follower carries to the leader
 * (lease keep-alive and time-to-live, member promote). One channel per member, made on first use
 * and made again when the member's peer URL changed ({@code member update}).
 */
final class PeerChannels implements AutoCloseable {
    private record Open(URI url, ManagedChannel channel) {
    }

    private final LongFunction<URI> peerUrl;
    private final Function<URI, ChannelCredentials> credentials;
    private final Map<Long, Open> channels = new ConcurrentHashMap<>();

    /**
     * @param peerUrl a member's peer URL now, or null when it is not a member
     * @param credentials how to dial a URL (TLS for https://)
     */
    PeerChannels(LongFunction<URI> peerUrl, Function<URI, ChannelCredentials> credentials) {
        this.peerUrl = peerUrl;
        this.credentials = credentials;
    }

    /** A channel to member {@code id}, or null when it is not a member. */
    ManagedChannel to(long id) {
        URI url = peerUrl.apply(id);
        if (url == null) {
            return null;
        }
        Open open = channels.compute(id, (k, o) -> {
            if (o != null && o.url().equals(url)) {
                return o;
            }
            if (o != null) {
                o.channel().shutdown();
            }
            return new Open(url, Grpc.newChannelBuilder(url.getHost() + ":" + url.getPort(),
                    credentials.apply(url)).build());
        });
        if (open.channel().getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
            // the member was unreachable before (restarting): try it now rather than after gRPC's backoff
            open.channel().resetConnectBackoff();
        }
        return open.channel();
    }

    /** A peer's answer as a CompletableFuture, completed on the gRPC thread that received it. */
    static <T> CompletableFuture<T> completable(ListenableFuture<T> call) {
        CompletableFuture<T> out = new CompletableFuture<>();
        Futures.addCallback(call, new FutureCallback<>() {
            @Override
            public void onSuccess(T value) {
                out.complete(value);
            }

            @Override
            public void onFailure(Throwable t) {
                out.completeExceptionally(t);
            }
        }, MoreExecutors.directExecutor());
        return out;
    }

    @Override
    public void close() {
        channels.values().forEach(o -> o.channel().shutdownNow());
    }
}
