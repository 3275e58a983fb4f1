package io.vigil.benchmarks.server;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.AuthGrpc;
import io.vigil.proto.etcdserverpb.AuthenticateRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * How the harness's clients reach a server: plaintext ({@link #PLAINTEXT}), or TLS trusting one CA
 * and, when a user is given, etcd's auth as etcd's clients do it: one Authenticate per connection
 * set, then the token in the {@code token} header of every call (a simple token's TTL restarts
 * on each use, so a token stays valid while its connection is busy).
 */
public final class ClientSecurity {
  public static final ClientSecurity PLAINTEXT = new ClientSecurity(null, null, null);
  static final Metadata.Key<String> TOKEN = Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);

  private final Path caCert;
  private final String user;
  private final String password;

  private ClientSecurity(Path caCert, String user, String password) {
    this.caCert = caCert;
    this.user = user;
    this.password = password;
  }

  /** TLS that trusts {@code caCert} (the server's name must match its SAN); a null user: no auth. */
  public static ClientSecurity tls(Path caCert, String user, String password) {
    return new ClientSecurity(caCert, user, password);
  }

  public boolean isTls() {
    return caCert != null;
  }

  /** {@code user:password}, or null without auth. */
  public String userAndPassword() {
    return user == null ? null : user + ":" + password;
  }

  public Path caCert() {
    return caCert;
  }

  /** A channel builder for {@code host:port}, plaintext or TLS. */
  public NettyChannelBuilder builder(String target) {
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(target);
    if (caCert == null) {
      return builder.usePlaintext();
    }
    try {
      return builder.sslContext(GrpcSslContexts.forClient().trustManager(caCert.toFile()).build());
    } catch (IOException e) {
      throw new UncheckedIOException("TLS client context from " + caCert, e);
    }
  }

  /** A token got now over {@code channel} (a blocking Authenticate), or null without auth. */
  public String authenticate(Channel channel, long rpcTimeoutMs) {
    if (user == null) {
      return null;
    }
    return AuthGrpc.newBlockingStub(channel).withDeadlineAfter(rpcTimeoutMs, TimeUnit.MILLISECONDS)
        .authenticate(AuthenticateRequest.newBuilder().setName(user).setPassword(password).build())
        .getToken();
  }

  /** {@code channel} as calls should see it: every call carries {@code token}; a null token: itself. */
  public static Channel carrying(Channel channel, String token) {
    return token == null ? channel : ClientInterceptors.intercept(channel, withToken(token));
  }

  static ClientInterceptor withToken(String token) {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            headers.put(TOKEN, token);
            super.start(listener, headers);
          }
        };
      }
    };
  }
}
