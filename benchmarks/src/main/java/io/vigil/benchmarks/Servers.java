package io.vigil.benchmarks;

import io.vigil.benchmarks.measure.Side;
import io.vigil.benchmarks.server.ExternalServer;
import io.vigil.benchmarks.server.LaunchedVigil;
import io.vigil.benchmarks.server.ReferenceEtcd;
import io.vigil.benchmarks.server.ServerHandle;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/** Obtains the server of each side: a given endpoint, or one started through its launcher. */
final class Servers implements AutoCloseable {
  private final Map<Side, ServerHandle> handles = new EnumMap<>(Side.class);

  static Servers start(BenchConfig config, Path logDir) throws Exception {
    Servers servers = new Servers();
    try {
      for (Side side : config.sides) {
        servers.handles.put(side, startOne(side, config, logDir));
      }
    } catch (Exception e) {
      servers.close();
      throw e;
    }
    return servers;
  }

  private static ServerHandle startOne(Side side, BenchConfig config, Path logDir) throws Exception {
    return switch (side) {
      case VIGIL -> config.vigilEndpoint != null ? new ExternalServer(config.vigilEndpoint, config.vigilPid)
          : LaunchedVigil.start(config.vigilLauncher, logDir.resolve("vigil-server.log"), config.serverStartTimeoutMs);
      case ETCD -> config.etcdEndpoint != null ? new ExternalServer(config.etcdEndpoint, config.etcdPid)
          : ReferenceEtcd.start(config.etcdLauncher, config.serverStartTimeoutMs);
    };
  }

  ServerHandle get(Side side) {
    return handles.get(side);
  }

  @Override
  public synchronized void close() {
    handles.values().forEach(ServerHandle::close);
    handles.clear();
  }
}
