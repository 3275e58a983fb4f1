package io.vigil.server;

import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The client HTTP URLs (etcd 3.5's --listen-client-http-urls): HTTP/1.1 alone, no gRPC, on
 * Netty (gRPC's shaded copy) with threads of its own. An https:// URL completes a TLS handshake
 * with the client port's certificate first. What a connection's pipeline serves is the
 * caller's ({@link ClientPortHttp}).
 */
final class ClientHttpListener implements AutoCloseable {
    private final EventLoopGroup loops = new NioEventLoopGroup(0, DaemonThreads.named("vigil-client-http"));
    private final List<Channel> bound = new ArrayList<>();

    /**
     * Binds every URL or none.
     *
     * @param tls the context of https:// URLs, not null when there is one
     * @param http installs the HTTP/1.1 handlers at the end of a new connection's pipeline
     */
    ClientHttpListener(List<URI> urls, SslContext tls, Consumer<SocketChannel> http) throws IOException {
        for (URI url : urls) {
            boolean secure = Urls.secure(url);
            ServerBootstrap b = new ServerBootstrap().group(loops).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (secure) {
                                ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                            }
                            http.accept(ch);
                        }
                    });
            ChannelFuture f = b.bind(Urls.address(url)).awaitUninterruptibly();
            if (!f.isSuccess()) {
                close();
                throw f.cause() instanceof IOException io ? io : new IOException("cannot listen on " + url, f.cause());
            }
            bound.add(f.channel());
        }
    }

    List<InetSocketAddress> addresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel c : bound) {
            out.add((InetSocketAddress) c.localAddress());
        }
        return out;
    }

    @Override
    public void close() {
        for (Channel c : bound) {
            c.close().syncUninterruptibly();
        }
        loops.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
