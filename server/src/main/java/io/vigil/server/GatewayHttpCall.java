package io.vigil.server;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderNames;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import java.util.function.Consumer;

/**
 * What a call of a client service made over HTTP/1.1 shares, whatever it writes (the gateway's
 * JSON, {@link GatewayExchange}; server-sent events, {@link GatewaySse}): the connection, the
 * call started through {@link GatewayCalls} with the request's {@code Authorization} as the token
 * and the connection's transport attributes, writability passed on, the client's going away
 * turned into a cancel, and {@code done} told once the answer is written.
 *
 * <p>All on the connection's event loop.
 */
abstract class GatewayHttpCall implements GatewayCall.Sink, ClientPortHttp.Exchange {
    final ChannelHandlerContext ctx;
    final boolean keepAlive;
    private final Consumer<Boolean> done;
    GatewayCall call;
    /** Nothing more is written once set: the answer is complete, or the client went away. */
    boolean finished;

    GatewayHttpCall(ChannelHandlerContext ctx, boolean keepAlive, Consumer<Boolean> done) {
        this.ctx = ctx;
        this.keepAlive = keepAlive;
        this.done = done;
    }

    /** Starts the call; false (and refused as UNIMPLEMENTED) when the port serves no such method. */
    boolean startCall(GatewayCalls calls, MethodDescriptor<?, ?> method, FullHttpRequest request) {
        Metadata headers = new Metadata();
        String token = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (token != null) {
            headers.put(AuthCalls.AUTHORIZATION, token);
        }
        call = calls.start(method, headers, ctx.executor(), attributes(ctx), () -> ctx.channel().isWritable(), this);
        if (call == null) {
            refuse(Status.UNIMPLEMENTED.withDescription("unknown service " + method.getServiceName()));
            return false;
        }
        return true;
    }

    /** A call refused before it started (or before its answer began): the gateway's error body. */
    void refuse(Status status) {
        finished = true;
        end(ClientPortHttp.respond(ctx, GatewayJson.httpStatus(status.getCode()), GatewayExchange.JSON,
                GatewayJson.errorBody(status), keepAlive, true));
    }

    /** The answer is complete once {@code written} is: the connection may serve its next request. */
    void end(ChannelFuture written) {
        written.addListener(f -> done.accept(keepAlive && f.isSuccess()));
    }

    /** The transport's attributes of a call on this connection (remote address, TLS session), as gRPC's. */
    private static Attributes attributes(ChannelHandlerContext ctx) {
        Attributes.Builder a = Attributes.newBuilder()
                .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, ctx.channel().remoteAddress())
                .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, ctx.channel().localAddress());
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (tls != null) {
            a.set(Grpc.TRANSPORT_ATTR_SSL_SESSION, tls.engine().getSession());
        }
        return a.build();
    }

    @Override
    public void ready() {
        if (call != null) {
            call.ready();
        }
    }

    @Override
    public void cancel() {
        if (call != null) {
            call.cancel();
        }
        finished = true;
    }

    @Override
    public boolean isReady() {
        return ctx.channel().isWritable();
    }
}
