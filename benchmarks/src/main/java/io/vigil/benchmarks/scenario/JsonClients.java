package io.vigil.benchmarks.scenario;

import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.SimpleChannelInboundHandler;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpClientCodec;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderNames;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpMethod;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpObjectAggregator;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The JSON scenarios' client: one HTTP/1.1 keep-alive connection per closed-loop client (so one
 * request in flight on each, as a JSON client of etcd's gateway has), on two Netty event loop
 * threads. A request completes when its whole response has arrived; a status other than 200 or
 * a lost connection fails it, and the client's next request opens a new connection.
 */
final class JsonClients implements AutoCloseable {
  private static final int MAX_RESPONSE_BYTES = 64 << 20;

  private final EventLoopGroup loops = new NioEventLoopGroup(2, r -> {
    Thread t = new Thread(r, "json-client");
    t.setDaemon(true);
    return t;
  });
  private final String host;
  private final int port;
  private final Connection[] connections;

  /** @param endpoint HOST:PORT serving the JSON gateway over plaintext HTTP/1.1 */
  JsonClients(String endpoint, int clients) {
    int colon = endpoint.lastIndexOf(':');
    this.host = endpoint.substring(0, colon);
    this.port = Integer.parseInt(endpoint.substring(colon + 1));
    this.connections = new Connection[clients];
    for (int i = 0; i < clients; i++) {
      connections[i] = new Connection();
    }
  }

  /** POSTs {@code body} to {@code path} on client {@code client}'s connection; at most one in flight per client. */
  void post(int client, String path, String body, Completion done) {
    connections[client].post(path, body.getBytes(StandardCharsets.UTF_8), done);
  }

  @Override
  public void close() {
    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private final class Connection {
    private volatile Channel channel;
    private volatile Completion pending;

    void post(String path, byte[] body, Completion done) {
      pending = done;
      FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path,
          Unpooled.wrappedBuffer(body));
      request.headers().set(HttpHeaderNames.HOST, host + ":" + port)
          .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
          .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
      Channel c = channel;
      if (c != null && c.isActive()) {
        send(c, request);
        return;
      }
      new Bootstrap().group(loops).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_RESPONSE_BYTES), new Responses());
            }
          })
          .connect(host, port).addListener(f -> {
            if (f.isSuccess()) {
              channel = ((io.grpc.netty.shaded.io.netty.channel.ChannelFuture) f).channel();
              send(channel, request);
            } else {
              request.release();
              complete(f.cause());
            }
          });
    }

    private void send(Channel c, FullHttpRequest request) {
      c.writeAndFlush(request).addListener(f -> {
        if (!f.isSuccess()) {
          complete(f.cause());
        }
      });
    }

    /** Completes the pending request: succeeded when {@code failure} is null. */
    private void complete(Throwable failure) {
      Completion done = pending;
      pending = null;
      if (done == null) {
        return;
      }
      if (failure == null) {
        done.succeeded();
      } else {
        done.failed(failure);
      }
    }

    private final class Responses extends SimpleChannelInboundHandler<FullHttpResponse> {
      @Override
      protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
        int status = response.status().code();
        complete(status == 200 ? null : new IllegalStateException("HTTP " + status + ": "
            + abbreviate(response.content().toString(StandardCharsets.UTF_8))));
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        complete(new IllegalStateException("the server closed the connection"));
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
        complete(cause);
      }
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
