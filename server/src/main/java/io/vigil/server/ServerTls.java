package io.vigil.server;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.InternalChannelz;
import io.grpc.SecurityLevel;
import io.grpc.internal.GrpcAttributes;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLSession;

/**
 * TLS in front of another server negotiation (gRPC-Netty's Internal* API): each connection first
 * completes a TLS handshake with the context's certificate (a client refused there, e.g. without
 * a certificate the port requires, is logged and disconnected, as etcd logs "rejected
 * connection"), then the inner negotiation runs on the decrypted bytes as it would on plaintext
 * ones; gRPC learns of the TLS session as from its own TLS negotiation (the call's
 * {@link Grpc#TRANSPORT_ATTR_SSL_SESSION}, security level privacy and integrity), so a service can
 * read the client's certificate. Unlike gRPC's own, it does not insist on ALPN's "h2": the
 * client port lets HTTP/1.1 clients reach {@code /metrics} after the handshake.
 */
final class ServerTls implements InternalProtocolNegotiator.ProtocolNegotiator {
    private static final AsciiString HTTPS = AsciiString.of("https");

    private final SslContext context;
    private final InternalProtocolNegotiator.ProtocolNegotiator inner;

    ServerTls(SslContext context, InternalProtocolNegotiator.ProtocolNegotiator inner) {
        this.context = context;
        this.inner = inner;
    }

    @Override
    public AsciiString scheme() {
        return HTTPS;
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler handler) {
        return new Handshake(inner.newHandler(handler));
    }

    @Override
    public void close() {
        inner.close();
    }

    /**
     * Installs the TLS handler before itself; once the handshake succeeded, it gives its place to
     * the inner negotiation's handler and passes on the negotiation event (with the session) and
     * what was decrypted meanwhile, in that order.
     */
    private final class Handshake extends ChannelInboundHandlerAdapter {
        private final ChannelHandler next;
        private final List<Object> heldReads = new ArrayList<>();
        private ProtocolNegotiationEvent negotiation;

        Handshake(ChannelHandler next) {
            this.next = next;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.pipeline().addBefore(ctx.name(), null, context.newHandler(ctx.alloc()));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ProtocolNegotiationEvent e) {
                negotiation = e;
            } else if (evt instanceof SslHandshakeCompletionEvent done) {
                if (done.isSuccess()) {
                    handOver(ctx);
                } else {
                    refuse(ctx, done.cause());
                }
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            heldReads.add(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            refuse(ctx, cause); // before the handshake completed: e.g. a plaintext client
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            heldReads.forEach(ReferenceCountUtil::release);
            heldReads.clear();
        }

        private void handOver(ChannelHandlerContext ctx) {
            SSLSession session = ctx.pipeline().get(SslHandler.class).engine().getSession();
            ProtocolNegotiationEvent base = negotiation != null ? negotiation : InternalProtocolNegotiationEvent.getDefault();
            Attributes attrs = InternalProtocolNegotiationEvent.getAttributes(base).toBuilder()
                    .set(GrpcAttributes.ATTR_SECURITY_LEVEL, SecurityLevel.PRIVACY_AND_INTEGRITY)
                    .set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session)
                    .build();
            ProtocolNegotiationEvent secured = InternalProtocolNegotiationEvent.withSecurity(
                    InternalProtocolNegotiationEvent.withAttributes(base, attrs),
                    new InternalChannelz.Security(new InternalChannelz.Tls(session)));
            List<Object> reads = new ArrayList<>(heldReads);
            heldReads.clear();
            // the replaced context forwards what it fires to the handler that took its place
            ctx.pipeline().replace(this, null, next);
            ctx.fireUserEventTriggered(secured);
            reads.forEach(ctx::fireChannelRead);
        }

        private void refuse(ChannelHandlerContext ctx, Throwable cause) {
            if (ctx.channel().isOpen()) {
                VigilServer.LOG.log(System.Logger.Level.WARNING, "rejected connection from " + ctx.channel().remoteAddress()
                        + " (error \"" + rootMessage(cause) + "\")");
            }
            ctx.close();
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }
}
