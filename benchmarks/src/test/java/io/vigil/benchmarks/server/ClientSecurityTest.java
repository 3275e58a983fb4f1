package io.vigil.benchmarks.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.AuthGrpc;
import io.vigil.proto.etcdserverpb.AuthenticateRequest;
import io.vigil.proto.etcdserverpb.AuthenticateResponse;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The secure client path end to end: openssl's certificates, a TLS server, one login, the token on every call. */
class ClientSecurityTest {
  private final List<String> seen = new CopyOnWriteArrayList<>();
  private Server server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.shutdownNow();
    }
  }

  @Test
  void everyConnectionTrustsTheCaAndSendsTheOneToken(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(TlsFiles.opensslInstalled(), "openssl not installed: apt-get install openssl");
    TlsFiles tls = TlsFiles.generate(dir);
    server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .sslContext(GrpcSslContexts.forServer(tls.serverCert().toFile(), tls.serverKey().toFile()).build())
        .addService(ServerInterceptors.intercept(new Auth(), recordToken()))
        .addService(ServerInterceptors.intercept(new Kv(), recordToken()))
        .build().start();
    String endpoint = "127.0.0.1:" + server.getPort();
    try (EtcdConnection connection = new EtcdConnection(endpoint, 3, 5_000,
        ClientSecurity.tls(tls.caCert(), AuthSetup.USER, "pw"))) {
      for (int i = 0; i < 3; i++) {
        connection.kvBlocking(i).range(RangeRequest.getDefaultInstance());
      }
    }
    assertEquals(List.of("Authenticate token=null", "login bench/pw", "Range token=t-1", "Range token=t-1", "Range token=t-1"),
        seen);
  }

  private ServerInterceptor recordToken() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        seen.add(call.getMethodDescriptor().getBareMethodName() + " token=" + headers.get(ClientSecurity.TOKEN));
        return next.startCall(call, headers);
      }
    };
  }

  private final class Auth extends AuthGrpc.AuthImplBase {
    @Override
    public void authenticate(AuthenticateRequest request, StreamObserver<AuthenticateResponse> response) {
      seen.add("login " + request.getName() + "/" + request.getPassword());
      response.onNext(AuthenticateResponse.newBuilder().setToken("t-1").build());
      response.onCompleted();
    }
  }

  private static final class Kv extends KVGrpc.KVImplBase {
    @Override
    public void range(RangeRequest request, StreamObserver<RangeResponse> response) {
      response.onNext(RangeResponse.getDefaultInstance());
      response.onCompleted();
    }
  }
}
