package io.vigil.benchmarks;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.vigil.benchmarks.measure.Side;
import io.vigil.benchmarks.server.AuthSetup;
import io.vigil.benchmarks.server.ClientSecurity;
import io.vigil.benchmarks.server.ExternalServer;
import io.vigil.benchmarks.server.LaunchedServer;
import io.vigil.benchmarks.server.ReferenceEtcd;
import io.vigil.benchmarks.server.ServerHandle;
import io.vigil.benchmarks.server.TlsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;

/**
 * Obtains the server of each side: a given endpoint, or one started through its launcher. With
 * {@code --secure} both are started by the harness with the same settings (TLS with one throw-away
 * certificate, etcd's auth on with simple tokens, see {@link AuthSetup}), and {@link #security()}
 * is how every client of the run reaches them.
 */
final class Servers implements AutoCloseable {
  private final Map<Side, ServerHandle> handles = new EnumMap<>(Side.class);
  private final ClientSecurity security;
  private final Path tlsDir;

  private Servers(ClientSecurity security, Path tlsDir) {
    this.security = security;
    this.tlsDir = tlsDir;
  }

  static Servers start(BenchConfig config, Path logDir) throws Exception {
    TlsFiles tls = config.secure ? TlsFiles.generate(Files.createTempDirectory("vigil-bench-tls")) : null;
    String password = UUID.randomUUID().toString();
    Servers servers = tls == null ? new Servers(ClientSecurity.PLAINTEXT, null)
        : new Servers(ClientSecurity.tls(tls.caCert(), AuthSetup.USER, password), tls.dir());
    try {
      for (Side side : config.sides) {
        ServerHandle server = startOne(side, config, logDir, tls, servers.security);
        servers.handles.put(side, server);
        if (tls != null) {
          enableAuth(server, tls, password, config.rpcTimeoutMs);
        }
      }
    } catch (Exception e) {
      servers.close();
      throw e;
    }
    return servers;
  }

  private static ServerHandle startOne(Side side, BenchConfig config, Path logDir, TlsFiles tls,
      ClientSecurity security) throws Exception {
    Path log = logDir.resolve(side.label() + "-server.log");
    return switch (side) {
      case VIGIL -> config.vigilEndpoint != null ? new ExternalServer(config.vigilEndpoint, config.vigilPid)
          : LaunchedServer.vigil(config.vigilLauncher, log, config.serverStartTimeoutMs, tls, security);
      case ETCD -> config.etcdEndpoint != null ? new ExternalServer(config.etcdEndpoint, config.etcdPid)
          : tls != null ? LaunchedServer.etcd(log, config.serverStartTimeoutMs, tls, security)
          : ReferenceEtcd.start(config.etcdLauncher, config.serverStartTimeoutMs);
    };
  }

  /** Over TLS but before auth is on, so no token is needed yet. */
  private static void enableAuth(ServerHandle server, TlsFiles tls, String password, long rpcTimeoutMs) {
    ManagedChannel channel = ClientSecurity.tls(tls.caCert(), null, null).builder(server.endpoint()).build();
    try {
      AuthSetup.enable(channel, password, ByteString.copyFromUtf8(AuthSetup.PREFIX), AuthSetup.prefixEnd(AuthSetup.PREFIX),
          rpcTimeoutMs);
    } finally {
      channel.shutdownNow();
    }
  }

  ServerHandle get(Side side) {
    return handles.get(side);
  }

  ClientSecurity security() {
    return security;
  }

  @Override
  public synchronized void close() {
    handles.values().forEach(ServerHandle::close);
    handles.clear();
    if (tlsDir != null && Files.exists(tlsDir)) {
      LaunchedServer.deleteRecursively(tlsDir);
    }
  }
}
