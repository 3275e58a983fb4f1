package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.watch.WatchOut;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WatchFrames} against grpc-java's stock client: batches written past sendMessage decode as
 * the ordinary Watch responses they are, in order, and grpc-java's flow control still holds them
 * back from a reader that stops, then lets them through when it reads again.
 */
class WatchFramesTest {
    private static final int RESPONSES = 20_000;
    private static final int BATCH = 100;

    private Server server;
    private ManagedChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.shutdownNow();
        }
    }

    /** A server with the Watch method answered by handler, behind an interceptor as the server has. */
    private void start(io.grpc.ServerCallHandler<WatchRequest, WatchOut> handler) throws java.io.IOException {
        MethodDescriptor<WatchRequest, WatchOut> watch = MethodDescriptor.<WatchRequest, WatchOut>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(WatchGrpc.getWatchMethod().getFullMethodName())
                .setRequestMarshaller(ProtoUtils.marshaller(WatchRequest.getDefaultInstance()))
                .setResponseMarshaller(WatchFrames.MARSHALLER)
                .build();
        ServerServiceDefinition service = ServerServiceDefinition.builder(WatchGrpc.SERVICE_NAME)
                .addMethod(watch, handler).build();
        // WatchFrames must find the call beneath the interceptors' forwarding calls
        ServerInterceptor forwarding = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                              io.grpc.ServerCallHandler<Q, A> next) {
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<Q, A>(call) { }, headers);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).directExecutor()
                .addService(ServerInterceptors.intercept(service, forwarding)).build().start();
    }

    /** Response n: watch id n, one put event of a 200-byte value at revision n + 1. */
    private static WatchResponse response(int n) {
        return response(n, 200);
    }

    private static WatchResponse response(int n, int valueBytes) {
        return WatchResponse.newBuilder()
                .setHeader(ResponseHeader.newBuilder().setRevision(n + 1).setClusterId(7).setMemberId(9))
                .setWatchId(n)
                .addEvents(Event.newBuilder().setKv(KeyValue.newBuilder()
                        .setKey(ByteString.copyFromUtf8("key/" + n)).setValue(ByteString.copyFromUtf8("v".repeat(valueBytes)))
                        .setModRevision(n + 1).setCreateRevision(n + 1).setVersion(1)))
                .build();
    }

    @Test
    void batchesDecodeInOrderAndWaitForAReaderThatStops() throws Exception {
        AtomicReference<WatchFrames> frames = new AtomicReference<>();
        AtomicInteger written = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean heldBack = new java.util.concurrent.atomic.AtomicBoolean();
        start((call, headers) -> {
            WatchFrames f = WatchFrames.of(call);
            frames.set(f);
            // the first response through the call: it sends the headers
            call.sendHeaders(new Metadata());
            call.sendMessage(WatchOut.of(response(0)));
            written.set(1);
            return new ServerCall.Listener<WatchRequest>() {
                @Override
                public void onReady() {
                    while (f != null && call.isReady() && written.get() < RESPONSES) {
                        List<WatchOut> batch = new ArrayList<>();
                        for (int i = 0; i < BATCH && written.get() + i < RESPONSES; i++) {
                            batch.add(WatchOut.of(response(written.get() + i)));
                        }
                        f.write(batch);
                        written.addAndGet(batch.size());
                    }
                    if (written.get() < RESPONSES) {
                        heldBack.set(true); // not ready with responses left: flow control holds them
                    }
                }
            };
        });
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                .flowControlWindow(64 * 1024).build();

        // a stock grpc-java client that reads 10 responses, then nothing until asked
        RawWatchStream reader = RawWatchStream.open(channel, true);
        reader.requests.request(10);
        reader.send(WatchRequest.getDefaultInstance());
        List<WatchResponse> received = reader.received;

        await().forever().until(() -> received.size() == 10);
        assertNotNull(frames.get(), "WatchFrames did not reach the transport stream: responses would go one by one");
        // the reader stopped: grpc-java's flow control must hold the writer back
        await().forever().untilTrue(heldBack);
        assertTrue(written.get() < RESPONSES, "flow control did not stop the writer: " + written.get() + " written");
        assertEquals(10, received.size(), "the reader got more than it asked for");

        reader.requests.request(Integer.MAX_VALUE);
        await().forever().until(() -> received.size() == RESPONSES);
        for (int n = 0; n < RESPONSES; n++) {
            assertEquals(response(n), received.get(n), "response " + n);
        }
    }

    /**
     * A batch larger than one transport buffer (1 MiB), holding a response that is larger too:
     * its frames split responses across buffers, and the client still reads every response whole.
     * Then the call closes, and a batch written after that is dropped, not sent after the trailers.
     */
    @Test
    void batchesLargerThanABufferSpanFramesAndAClosedCallDropsThem() throws Exception {
        int small = 3_000;
        AtomicReference<WatchFrames> frames = new AtomicReference<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        start((call, headers) -> {
            WatchFrames f = WatchFrames.of(call);
            frames.set(f);
            call.sendHeaders(new Metadata());
            call.sendMessage(WatchOut.of(response(0)));
            List<WatchOut> batch = new ArrayList<>();
            batch.add(WatchOut.of(response(1, 1_500_000)));
            for (int n = 2; n < small; n++) {
                batch.add(WatchOut.of(response(n, 1_000)));
            }
            try {
                f.write(batch);
                f.write(List.of(WatchOut.of(response(small))));
                call.close(io.grpc.Status.OK, new Metadata());
                f.write(List.of(WatchOut.of(response(small + 1))));
            } catch (RuntimeException e) {
                failed.set(e);
            }
            return new ServerCall.Listener<WatchRequest>() { };
        });
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                .maxInboundMessageSize(4 << 20).build();
        RecordingStream reader = new RecordingStream();
        WatchGrpc.newStub(channel).watch(reader).onNext(WatchRequest.getDefaultInstance());

        io.grpc.Status status = reader.status.get();
        assertNotNull(frames.get(), "WatchFrames did not reach the transport stream");
        assertEquals(null, failed.get(), "writing failed on the server");
        assertEquals(io.grpc.Status.Code.OK, status.getCode(), status.toString());
        assertEquals(small + 1, reader.received.size(), "responses received");
        assertEquals(response(0), reader.received.get(0));
        assertEquals(response(1, 1_500_000), reader.received.get(1));
        for (int n = 2; n < small; n++) {
            assertEquals(response(n, 1_000), reader.received.get(n), "response " + n);
        }
        assertEquals(response(small), reader.received.get(small));
    }

    /** Records responses and how the call ended (complete once it has). */
    private static final class RecordingStream implements io.grpc.stub.StreamObserver<WatchResponse> {
        final List<WatchResponse> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        final java.util.concurrent.CompletableFuture<io.grpc.Status> status = new java.util.concurrent.CompletableFuture<>();

        @Override
        public void onNext(WatchResponse value) {
            received.add(value);
        }

        @Override
        public void onError(Throwable t) {
            status.complete(io.grpc.Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            status.complete(io.grpc.Status.OK);
        }
    }
}
