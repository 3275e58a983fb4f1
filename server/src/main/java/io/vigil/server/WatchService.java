package io.vigil.server;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.revlog.AuthStore;
import io.vigil.revlog.RevLogException;
import io.vigil.watch.WatchHub;
import io.vigil.watch.WatchOut;
import io.vigil.watch.WatchSink;
import io.vigil.watch.WatchStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * etcd's Watch service on the {@link WatchHub}. The method is etcd's {@code Watch} with the
 * generated request marshaller, but responses are {@link WatchOut}: already encoded, parts shared
 * across streams, written to the transport without being re-encoded per stream.
 *
 * <p>Progress: a progress request is answered once this member has applied what the leader had
 * committed when the request came (a ReadIndex first), so on a follower too its revision is at
 * least the one a linearizable read there would see, and a cache can serve consistent reads from
 * its watch (what Kubernetes relies on). The stream reads its next request only after that, so
 * requests keep their order. Without a leader the request is answered from what this member has
 * applied, as etcd 3.4 answers every progress request.
 *
 * <p>Auth: a create request is refused (created and canceled, with etcd's cancel reason) when
 * the stream's caller may not read its range, checked when it comes, as etcd does.
 *
 * <p>Flow control both ways: responses are sent only while the call {@code isReady} (the hub's
 * stream buffer absorbs the rest and then moves watchers to catch-up), and client requests are
 * read one at a time, only while that buffer has room.
 */
final class WatchService {
    private WatchService() {
    }

    /**
     * @param sentMessages counts the responses written in batches ({@link WatchFrames}), which the
     *     metrics interceptor does not see
     */
    static ServerServiceDefinition definition(WatchHub hub, Supplier<CompletableFuture<Void>> readIndex, AuthStore auth,
                                              IntConsumer sentMessages) {
        MethodDescriptor<WatchRequest, WatchOut> watch = MethodDescriptor.<WatchRequest, WatchOut>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(WatchGrpc.getWatchMethod().getFullMethodName())
                .setRequestMarshaller(ProtoUtils.marshaller(WatchRequest.getDefaultInstance()))
                .setResponseMarshaller(WatchFrames.MARSHALLER)
                .setSchemaDescriptor(WatchGrpc.getWatchMethod().getSchemaDescriptor())
                .build();
        ServerCallHandler<WatchRequest, WatchOut> streams = ServerCalls.asyncBidiStreamingCall(
                responses -> open(hub, readIndex, AuthCalls.current(auth), (ServerCallStreamObserver<WatchOut>) responses,
                        CONNECTION.get(), FRAMES.get(), sentMessages));
        // with the generated service's schema descriptor, which server reflection reads
        io.grpc.ServiceDescriptor service = io.grpc.ServiceDescriptor.newBuilder(WatchGrpc.SERVICE_NAME)
                .setSchemaDescriptor(WatchGrpc.getServiceDescriptor().getSchemaDescriptor())
                .addMethod(watch)
                .build();
        return ServerServiceDefinition.builder(service)
                .addMethod(watch, (call, headers) -> Contexts.interceptCall(Context.current()
                        .withValues(CONNECTION, connectionOf(call), FRAMES, WatchFrames.of(call)), call, headers, streams))
                .build();
    }

    /** The client connection of the call being started, for the per-connection watcher limit. */
    private static final Context.Key<Object> CONNECTION = Context.key("vigil-watch-connection");
    /** The batch writer of the call being started; null when responses go one by one. */
    private static final Context.Key<WatchFrames> FRAMES = Context.key("vigil-watch-frames");

    /**
     * The client's address: one connection's, as long as that connection is open (its streams,
     * and with them their watchers, are gone before the port can be used again).
     */
    private static Object connectionOf(ServerCall<?, ?> call) {
        Object remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        return remote == null ? new Object() : remote;
    }

    private static StreamObserver<WatchRequest> open(WatchHub hub, Supplier<CompletableFuture<Void>> readIndex,
                                                     Caller caller, ServerCallStreamObserver<WatchOut> call, Object connection,
                                                     WatchFrames frames, IntConsumer sentMessages) {
        call.disableAutoRequest();
        // the call starts on its connection's event loop (directExecutor): sends go there too,
        // which also keeps every call on this ServerCall on one thread
        EventExecutor loop = ThreadExecutorMap.currentExecutor();
        if (loop == null) {
            throw new IllegalStateException("the Watch service needs the netty transport with directExecutor");
        }
        WatchSink sink = new WatchSink() {
            @Override
            public void execute(Runnable task) {
                if (loop.inEventLoop()) {
                    task.run();
                } else {
                    try {
                        loop.execute(task);
                    } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
                        // the connection is gone; its call's cancel handler closes the stream
                    }
                }
            }

            @Override
            public boolean isReady() {
                return call.isReady();
            }

            /** The first response goes through the call, which sends the headers before it. */
            private boolean headersSent;

            @Override
            public void send(WatchOut response) {
                try {
                    call.onNext(response);
                    headersSent = true;
                } catch (RuntimeException gone) {
                    // the call ended under us; its cancel handler closes the stream
                }
            }

            @Override
            public void send(List<WatchOut> responses) {
                if (frames == null || !headersSent) {
                    WatchSink.super.send(responses);
                    return;
                }
                try {
                    frames.write(responses);
                    sentMessages.accept(responses.size());
                } catch (RuntimeException gone) {
                    // the call ended under us; its cancel handler closes the stream
                }
            }

            @Override
            public void requestNext() {
                call.request(1);
            }
        };
        WatchStream stream = hub.openStream(sink, connection);
        call.setOnReadyHandler(stream::onReady);
        call.setOnCancelHandler(stream::close);
        call.request(1);
        return new StreamObserver<>() {
            @Override
            public void onNext(WatchRequest request) {
                switch (request.getRequestUnionCase()) {
                    case CREATE_REQUEST -> {
                        String refused = refusal(caller, request.getCreateRequest());
                        if (refused == null) {
                            stream.create(request.getCreateRequest());
                        } else {
                            stream.refuseCreate(refused);
                        }
                    }
                    case CANCEL_REQUEST -> stream.cancel(request.getCancelRequest().getWatchId());
                    case PROGRESS_REQUEST -> readIndex.get().whenComplete((applied, noLeader) ->
                            sink.execute(stream::requestProgress));
                    // etcd ignores a request with nothing in it
                    default -> call.request(1);
                }
            }

            @Override
            public void onError(Throwable t) {
                stream.close();
            }

            @Override
            public void onCompleted() {
                // etcd keeps a half-closed watch stream open: its watchers go on until the client
                // cancels the call
            }
        };
    }

    /**
     * Why the caller may not watch the range (etcd's isWatchPermitted), as etcd words it in the
     * cancel reason: the text of its gRPC error, "rpc error: code = ... desc = ..."; null when it may.
     */
    static String refusal(Caller caller, WatchCreateRequest create) {
        try {
            caller.checkRange(caller.header(), create.getKey(), create.getRangeEnd());
            return null;
        } catch (RevLogException e) {
            String code = switch (e.code()) {
                case INVALID_AUTH_TOKEN -> "Unauthenticated";
                case AUTH_OLD_REVISION, USER_EMPTY -> "InvalidArgument";
                default -> "PermissionDenied";
            };
            RevLogException.Code reason = code.equals("PermissionDenied") ? RevLogException.Code.PERMISSION_DENIED : e.code();
            return "rpc error: code = " + code + " desc = etcdserver: " + reason.etcdMessage();
        }
    }
}
