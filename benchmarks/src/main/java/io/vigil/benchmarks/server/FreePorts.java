package io.vigil.benchmarks.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Picks loopback ports nobody listens on (a small race remains until the server binds). */
public final class FreePorts {
  private FreePorts() {}

  /** A free port {@code p} such that {@code p + extra} is free as well (etcd's peer port). */
  public static int pick(int extra) {
    for (int attempt = 0; attempt < 50; attempt++) {
      int port = ephemeral();
      if (port + extra <= 65535 && (extra == 0 || isFree(port + extra))) {
        return port;
      }
    }
    throw new IllegalStateException("no free loopback port pair found");
  }

  private static int ephemeral() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
