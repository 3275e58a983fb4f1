package io.vigil.server;

import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.SimpleChannelInboundHandler;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderNames;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderValues;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpMethod;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpObjectAggregator;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponseStatus;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpServerCodec;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * etcd's {@code /metrics} on the client port, beside gRPC, as etcd serves both on one port
 * (cmux). Each new connection's first four bytes decide, once: {@code GET } is an HTTP/1.1
 * request, answered by a small HTTP/1.1 handler (GET /metrics: the Prometheus text; anything
 * else: 404) that closes the connection after its response; anything else (gRPC's HTTP/2
 * preface {@code PRI * HTTP/2.0}) gets gRPC's own plaintext negotiation, and the sniffing
 * handler leaves the pipeline. A gRPC connection so pays one look at its first read and nothing
 * after; its handlers and their order are gRPC's own.
 *
 * <p>How it fits in gRPC-Netty (its Internal* API): the transport installs the negotiation
 * handler this negotiator makes, fires the protocol negotiation event at it, and sends its
 * HTTP/2 settings only once negotiation has handed over to gRPC's handler. The sniffer holds
 * the event (and the bytes read) until it has decided, then passes both on to gRPC's
 * negotiation handler, in that order. Its writes on the HTTP/1.1 path do not pass gRPC's
 * write-buffering handler, which sits after it.
 *
 * <p>Over TLS ({@link ServerTls}) the first bytes looked at are the decrypted ones; the TLS
 * handshake's ALPN picks HTTP/1.1 for a client that offers it (curl, Prometheus) and h2 for gRPC
 * clients, which offer nothing else.
 */
final class ClientPortHttp implements AutoCloseable {
    private static final byte[] GET = "GET ".getBytes(StandardCharsets.US_ASCII);

    private final Supplier<String> scrape;
    /** Scrapes run here, never on a transport thread that also carries gRPC calls. */
    private final ExecutorService scrapes = Executors.newSingleThreadExecutor(DaemonThreads.named("vigil-client-metrics"));

    ClientPortHttp(Supplier<String> scrape) {
        this.scrape = scrape;
    }

    /**
     * The client port's negotiation on a plaintext byte stream: gRPC, with /metrics beside it.
     * Over TLS, {@link ServerTls} runs it on the decrypted bytes.
     */
    InternalProtocolNegotiator.ProtocolNegotiator negotiator() {
        return new Negotiator(InternalProtocolNegotiators.serverPlaintext());
    }

    @Override
    public void close() {
        scrapes.shutdownNow();
    }

    private final class Negotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
        private final InternalProtocolNegotiator.ProtocolNegotiator grpc;

        Negotiator(InternalProtocolNegotiator.ProtocolNegotiator grpc) {
            this.grpc = grpc;
        }

        @Override
        public AsciiString scheme() {
            return grpc.scheme();
        }

        @Override
        public ChannelHandler newHandler(GrpcHttp2ConnectionHandler handler) {
            return new FirstBytes(grpc.newHandler(handler));
        }

        @Override
        public void close() {
            grpc.close();
        }
    }

    /** Reads a connection's first four bytes and hands the connection to HTTP/1.1 or to gRPC. */
    private final class FirstBytes extends ChannelInboundHandlerAdapter {
        private final ChannelHandler grpcNegotiation;
        private final List<Object> heldEvents = new ArrayList<>();
        private ByteBuf held;

        FirstBytes(ChannelHandler grpcNegotiation) {
            this.grpcNegotiation = grpcNegotiation;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            heldEvents.add(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf in)) {
                ctx.fireChannelRead(msg);
                return;
            }
            if (held == null) {
                held = ctx.alloc().buffer(Math.max(GET.length, in.readableBytes()));
            }
            held.writeBytes(in);
            in.release();
            if (held.readableBytes() < GET.length) {
                return;
            }
            ByteBuf bytes = held;
            held = null;
            if (startsWithGet(bytes)) {
                for (Object e : heldEvents) {
                    ReferenceCountUtil.release(e);
                }
                ctx.pipeline().addAfter(ctx.name(), null, new MetricsRequests())
                        .addAfter(ctx.name(), null, new HttpObjectAggregator(8192))
                        .addAfter(ctx.name(), null, new HttpServerCodec());
            } else {
                ctx.pipeline().addAfter(ctx.name(), null, grpcNegotiation);
                for (Object e : heldEvents) {
                    ctx.fireUserEventTriggered(e);
                }
            }
            heldEvents.clear();
            ctx.fireChannelRead(bytes);
            ctx.pipeline().remove(this);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (held != null) {
                held.release();
                held = null;
            }
        }

        private static boolean startsWithGet(ByteBuf b) {
            for (int i = 0; i < GET.length; i++) {
                if (b.getByte(b.readerIndex() + i) != GET[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    /** GET /metrics answers the Prometheus text; the connection closes after each response. */
    private final class MetricsRequests extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = request.uri();
            int q = path.indexOf('?');
            if (q >= 0) {
                path = path.substring(0, q);
            }
            if (!request.method().equals(HttpMethod.GET) || !path.equals("/metrics")) {
                respond(ctx, HttpResponseStatus.NOT_FOUND, "404 page not found\n");
                return;
            }
            scrapes.execute(() -> respond(ctx, HttpResponseStatus.OK, scrape.get()));
        }

        private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
