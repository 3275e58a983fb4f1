package io.vigil.server;

import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
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
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaders;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpObjectAggregator;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponseStatus;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpServerCodec;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpUtil;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The client port's HTTP/1.1 side, beside gRPC, as etcd serves both on one port (cmux): etcd's
 * {@code /metrics}, {@code /health}, {@code /version} (and etcd 3.5's {@code /livez},
 * {@code /readyz}: {@link HealthEndpoints}), and the JSON gateway under {@code /v3/} and
 * {@code /v3beta/} ({@link GatewayRoutes}, {@link GatewayExchange}); beyond etcd, {@code GET /v3/watch}
 * as server-sent events ({@link GatewaySse}) and a page at {@code GET /} ({@link BrowserPage});
 * the OpenAPI document of all these at {@code GET /openapi.json} ({@link OpenApiDocument}); any
 * other path: Go's 404.
 * Each new connection's first four bytes decide, once: an HTTP/1.x request line ({@code GET },
 * {@code POST}, {@code PUT }, ...) makes it an HTTP/1.1 connection, served by {@link HttpRequests};
 * anything else (gRPC's HTTP/2 preface {@code PRI * HTTP/2.0}) gets gRPC's own plaintext
 * negotiation, and the sniffing handler leaves the pipeline. A gRPC connection so pays one look at
 * its first read and nothing after; its handlers and their order are gRPC's own.
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
 *
 * <p>With --listen-client-http-urls ({@link #listen}), as etcd 3.5's, the HTTP side moves there
 * and the client port is gRPC's alone: no sniffing in its pipeline.
 */
final class ClientPortHttp implements AutoCloseable {
    /** The first four bytes of the HTTP/1.x requests served (methods other than these are not HTTP/1.1 here). */
    private static final List<String> HTTP1_STARTS = List.of("GET ", "POST", "PUT ", "HEAD", "DELE", "OPTI", "PATC");
    private static final int SNIFF_BYTES = 4;
    /** grpc-gateway's copy of the gRPC response's content type, on every gateway answer. */
    static final String GRPC_CONTENT_TYPE = "Grpc-Metadata-Content-Type";

    private final Supplier<String> scrape;
    /** Scrapes run here, never on a transport thread that also carries gRPC calls. */
    private final ExecutorService scrapes = Executors.newSingleThreadExecutor(DaemonThreads.named("vigil-client-metrics"));
    private final int maxBodyBytes;
    private volatile HealthEndpoints health;
    private volatile GatewayCalls gateway;
    private ClientHttpListener httpOnly;

    /**
     * @param maxBodyBytes the largest request body taken (larger: 413), at least what the largest
     *     gRPC request takes in JSON
     */
    ClientPortHttp(Supplier<String> scrape, int maxBodyBytes) {
        this.scrape = scrape;
        this.maxBodyBytes = maxBodyBytes;
    }

    /** Serves the health endpoints and the JSON gateway from now on (before: 503). */
    void serve(HealthEndpoints health, GatewayCalls gateway) {
        this.health = health;
        this.gateway = gateway;
    }

    /**
     * The client port's negotiation on a plaintext byte stream: gRPC, with /metrics beside it.
     * Over TLS, {@link ServerTls} runs it on the decrypted bytes.
     */
    InternalProtocolNegotiator.ProtocolNegotiator negotiator() {
        return new Negotiator(InternalProtocolNegotiators.serverPlaintext());
    }

    /**
     * Serves HTTP/1.1 alone on {@code urls} (--listen-client-http-urls) until {@link #close},
     * over TLS with {@code tls} on https:// URLs. The client port then serves gRPC alone: its
     * negotiation is gRPC's own, not {@link #negotiator()}.
     */
    void listen(List<URI> urls, SslContext tls) throws IOException {
        httpOnly = new ClientHttpListener(urls, tls, ch -> ch.pipeline()
                .addLast(new HttpServerCodec(), new HttpObjectAggregator(maxBodyBytes), new HttpRequests()));
    }

    /** The addresses {@link #listen} bound (none without --listen-client-http-urls). */
    List<InetSocketAddress> httpAddresses() {
        return httpOnly == null ? List.of() : httpOnly.addresses();
    }

    @Override
    public void close() {
        if (httpOnly != null) {
            httpOnly.close();
        }
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
                held = ctx.alloc().buffer(Math.max(SNIFF_BYTES, in.readableBytes()));
            }
            held.writeBytes(in);
            in.release();
            if (held.readableBytes() < SNIFF_BYTES) {
                return;
            }
            ByteBuf bytes = held;
            held = null;
            if (isHttp1(bytes)) {
                for (Object e : heldEvents) {
                    ReferenceCountUtil.release(e);
                }
                ctx.pipeline().addAfter(ctx.name(), null, new HttpRequests())
                        .addAfter(ctx.name(), null, new HttpObjectAggregator(maxBodyBytes))
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

        private static boolean isHttp1(ByteBuf b) {
            String start = b.toString(b.readerIndex(), SNIFF_BYTES, StandardCharsets.US_ASCII);
            return HTTP1_STARTS.contains(start);
        }
    }

    /**
     * One HTTP/1.1 connection's requests, served one at a time in the order they came (a request
     * pipelined behind another waits for its answer); the connection stays open between them
     * unless the client or an answer closes it. Runs on the connection's event loop.
     */
    private final class HttpRequests extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
        private boolean busy;
        private Exchange exchange;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            waiting.add(request.retain());
            if (!busy) {
                next(ctx);
            }
        }

        private void next(ChannelHandlerContext ctx) {
            FullHttpRequest request = waiting.poll();
            if (request == null) {
                return;
            }
            busy = true;
            try {
                serve(ctx, request);
            } finally {
                request.release();
            }
        }

        /** Once the answer to the current request is written: the next request, or the connection closes. */
        private void done(ChannelHandlerContext ctx, boolean keepOpen) {
            exchange = null;
            busy = false;
            if (!keepOpen) {
                ctx.close();
            } else {
                next(ctx);
            }
        }

        private void serve(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
            String uri = request.uri();
            int q = uri.indexOf('?');
            String path = q >= 0 ? uri.substring(0, q) : uri;
            String query = q >= 0 ? uri.substring(q + 1) : null;
            String method = request.method().name();
            if (!request.decoderResult().isSuccess()) {
                answer(ctx, 400, HealthEndpoints.TEXT, "400 Bad Request", false);
                return;
            }
            if (path.equals("/metrics") && method.equals("GET")) {
                scrapes.execute(() -> {
                    String text = scrape.get();
                    ctx.executor().execute(() -> answer(ctx, 200, "text/plain; version=0.0.4; charset=utf-8", text, keepAlive));
                });
                return;
            }
            if (path.equals("/") && method.equals("GET")) {
                answer(ctx, 200, "text/html; charset=utf-8", BrowserPage.HTML, keepAlive);
                return;
            }
            if (path.equals(OpenApiDocument.PATH) && method.equals("GET") && OpenApiDocument.served() != null) {
                answer(ctx, 200, GatewayExchange.JSON, OpenApiDocument.served(), keepAlive);
                return;
            }
            HealthEndpoints h = health;
            GatewayCalls calls = gateway;
            if (HealthEndpoints.serves(path) || path.startsWith("/v3/") || path.startsWith("/v3beta/")) {
                if (h == null || calls == null) {
                    answer(ctx, 503, HealthEndpoints.TEXT, "etcdserver: not started\n", false);
                    return;
                }
            }
            if (HealthEndpoints.serves(path)) {
                h.answer(method, path, query).whenComplete((a, failure) -> ctx.executor().execute(() -> {
                    if (failure != null) {
                        answer(ctx, 500, HealthEndpoints.TEXT, failure + "\n", false);
                    } else {
                        answer(ctx, a.status(), a.contentType(), a.body(), keepAlive);
                    }
                }));
                return;
            }
            if (method.equals("GET") && (path.equals("/v3/watch") || path.equals("/v3beta/watch"))) {
                GatewaySse sse = new GatewaySse(ctx, keepAlive, keepOpen -> done(ctx, keepOpen));
                exchange = sse;
                sse.start(calls, request);
                return;
            }
            if (path.startsWith("/v3/") || path.startsWith("/v3beta/")) {
                MethodDescriptor<?, ?> m = GatewayRoutes.method(path);
                if (m == null) {
                    answer(ctx, 404, HealthEndpoints.TEXT, "Not Found\n", keepAlive);
                } else if (!method.equals("POST")) {
                    answer(ctx, 405, HealthEndpoints.TEXT, "Method Not Allowed\n", keepAlive);
                } else {
                    GatewayExchange json = new GatewayExchange(ctx, keepAlive, keepOpen -> done(ctx, keepOpen));
                    exchange = json;
                    json.start(calls, m, request);
                }
                return;
            }
            answer(ctx, 404, HealthEndpoints.TEXT, "404 page not found\n", keepAlive);
        }

        private void answer(ChannelHandlerContext ctx, int status, String contentType, String body, boolean keepAlive) {
            respond(ctx, status, contentType, body, keepAlive, false).addListener(f -> done(ctx, keepAlive && f.isSuccess()));
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (exchange != null && ctx.channel().isWritable()) {
                exchange.ready();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (exchange != null) {
                exchange.cancel();
                exchange = null;
            }
            waiting.forEach(ReferenceCountUtil::release);
            waiting.clear();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * A call in progress on an HTTP/1.1 connection (a JSON call, a watch as server-sent events): it
     * is told, on the connection's event loop, when the connection takes more again and when the
     * client went away.
     */
    interface Exchange {
        void ready();

        void cancel();
    }

    /** etcd's CORS headers (its --cors default, "*"), on every HTTP/1.1 answer as etcd sends them. */
    static void cors(HttpHeaders headers) {
        headers.set("Access-Control-Allow-Headers", "accept, content-type, authorization")
                .set("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE")
                .set("Access-Control-Allow-Origin", "*");
    }

    /**
     * Writes a whole response; the connection is closed after it unless {@code keepAlive}.
     *
     * @param gateway whether it is a gateway answer (it then carries grpc-gateway's copy of the
     *     gRPC content type)
     */
    static ChannelFuture respond(ChannelHandlerContext ctx, int status, String contentType, String body, boolean keepAlive,
                                 boolean gateway) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(bytes));
        cors(response.headers());
        if (contentType != null) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        if (gateway) {
            response.headers().set(GRPC_CONTENT_TYPE, "application/grpc");
        }
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ChannelFuture written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
        return written;
    }
}
