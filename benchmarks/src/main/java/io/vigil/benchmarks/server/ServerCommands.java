package io.vigil.benchmarks.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command lines of the servers the harness starts itself, in one place: a single-node Vigil
 * through its launcher and, for secure runs, a single-node etcd with the flags of
 * {@code shared/tools/reference-etcd} (peer port = client port + 10). With {@link TlsFiles} both
 * get the same settings: an {@code https://127.0.0.1:PORT} client URL and the same
 * {@code --cert-file}/{@code --key-file}; no client certificates are asked for (auth is by token).
 */
public final class ServerCommands {
  /** How far above the client port etcd's peer port is (the reference script's choice). */
  public static final int ETCD_PEER_OFFSET = 10;

  private ServerCommands() {}

  public static List<String> vigil(Path launcher, int port, Path dataDir, TlsFiles tls) {
    String url = clientUrl(port, tls);
    List<String> command = new ArrayList<>(List.of(launcher.toString(), "serve", "--data-dir", dataDir.toString(),
        "--listen-client-urls", url, "--advertise-client-urls", url));
    command.addAll(tlsFlags(tls));
    return command;
  }

  public static List<String> etcd(String binary, int port, Path dataDir, TlsFiles tls) {
    String url = clientUrl(port, tls);
    String peer = "http://127.0.0.1:" + (port + ETCD_PEER_OFFSET);
    List<String> command = new ArrayList<>(List.of(binary, "--name", "ref", "--data-dir", dataDir.toString(),
        "--listen-client-urls", url, "--advertise-client-urls", url,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "ref=" + peer,
        "--log-level", "error"));
    command.addAll(tlsFlags(tls));
    return command;
  }

  static String clientUrl(int port, TlsFiles tls) {
    return (tls == null ? "http" : "https") + "://127.0.0.1:" + port;
  }

  static List<String> tlsFlags(TlsFiles tls) {
    return tls == null ? List.of()
        : List.of("--cert-file", tls.serverCert().toString(), "--key-file", tls.serverKey().toString());
  }
}
