package io.vigil.server;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * The client calls in progress, so that a stopping member can end them at once with an error
 * clients retry. etcd ends its streams with UNAVAILABLE when it stops; etcdctl, jetcd and Go's
 * clientv3 then resume their watches and keep-alives on another member (or on this one once it is
 * back), whereas the CANCELLED that a plain server shutdown gives them is final.
 *
 * <p>Threads: a call is closed on the event loop it started on (the transport runs handlers
 * there, directExecutor), so the close never races the call's own sends.
 */
final class OpenCalls implements ServerInterceptor {
    private record Open(ServerCall<?, ?> call, EventExecutor loop) {
    }

    private final Map<ServerCall<?, ?>, Open> open = new ConcurrentHashMap<>();

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        EventExecutor loop = ThreadExecutorMap.currentExecutor();
        ServerCall<Q, R> tracked = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                open.remove(call);
                super.close(status, trailers);
            }
        };
        if (loop != null) {
            open.put(call, new Open(tracked, loop));
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(tracked, headers)) {
            @Override
            public void onCancel() {
                open.remove(call);
                super.onCancel();
            }

            @Override
            public void onComplete() {
                open.remove(call);
                super.onComplete();
            }
        };
    }

    /** Ends every open call with {@code status}, each on its own event loop. */
    void closeAll(Status status) {
        for (Open o : open.values()) {
            try {
                o.loop().execute(() -> {
                    if (open.remove(o.call()) != null) {
                        try {
                            o.call().close(status, new Metadata());
                        } catch (IllegalStateException alreadyClosed) {
                            // it ended on its own meanwhile
                        }
                    }
                });
            } catch (RejectedExecutionException gone) {
                // its connection is gone already
            }
        }
    }
}
