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

    /** Response n: watch id n, one put event of a 200-byte value at revision n + 1. */
    private static WatchResponse response(int n) {
        return WatchResponse.newBuilder()
                .setHeader(ResponseHeader.newBuilder().setRevision(n + 1).setClusterId(7).setMemberId(9))
                .setWatchId(n)
                .addEvents(Event.newBuilder().setKv(KeyValue.newBuilder()
                        .setKey(ByteString.copyFromUtf8("key/" + n)).setValue(ByteString.copyFromUtf8("v".repeat(200)))
                        .setModRevision(n + 1).setCreateRevision(n + 1).setVersion(1)))
                .build();
    }

    @Test
    void batchesDecodeInOrderAndWaitForAReaderThatStops() throws Exception {
        AtomicReference<WatchFrames> frames = new AtomicReference<>();
        AtomicInteger written = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean heldBack = new java.util.concurrent.atomic.AtomicBoolean();
        MethodDescriptor<WatchRequest, WatchOut> watch = MethodDescriptor.<WatchRequest, WatchOut>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(WatchGrpc.getWatchMethod().getFullMethodName())
                .setRequestMarshaller(ProtoUtils.marshaller(WatchRequest.getDefaultInstance()))
                .setResponseMarshaller(WatchFrames.MARSHALLER)
                .build();
        ServerServiceDefinition service = ServerServiceDefinition.builder(WatchGrpc.SERVICE_NAME)
                .addMethod(watch, (call, headers) -> {
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
                })
                .build();
        // an interceptor in front, as the server has: WatchFrames must find the call beneath it
        ServerInterceptor forwarding = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                              io.grpc.ServerCallHandler<Q, A> next) {
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<Q, A>(call) { }, headers);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).directExecutor()
                .addService(ServerInterceptors.intercept(service, forwarding)).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                .flowControlWindow(64 * 1024).build();

        // a stock grpc-java client that reads 10 responses, then nothing until asked
        RawWatchStream reader = RawWatchStream.open(channel, true);
        reader.requests.request(10);
        reader.send(WatchRequest.getDefaultInstance());
        List<WatchResponse> received = reader.received;

        await().atMost(ClusterClients.PATIENCE).until(() -> received.size() == 10);
        assertNotNull(frames.get(), "WatchFrames did not reach the transport stream: responses would go one by one");
        // the reader stopped: grpc-java's flow control must hold the writer back
        await().atMost(ClusterClients.PATIENCE).untilTrue(heldBack);
        assertTrue(written.get() < RESPONSES, "flow control did not stop the writer: " + written.get() + " written");
        assertEquals(10, received.size(), "the reader got more than it asked for");

        reader.requests.request(Integer.MAX_VALUE);
        await().atMost(ClusterClients.PATIENCE).until(() -> received.size() == RESPONSES);
        for (int n = 0; n < RESPONSES; n++) {
            assertEquals(response(n), received.get(n), "response " + n);
        }
    }
}
