package io.vigil.benchmarks.server;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import java.nio.file.Path;

/**
 * The secure settings of {@code --secure} for servers started outside the harness
 * ({@code benchmarks/go-secure}), so that both load generators meet the same certificates and the
 * same users: {@code benchmarks/run secure-setup certs DIR} writes {@code DIR/ca.crt},
 * {@code server.crt} and {@code server.key}; {@code ... auth HOST:PORT CA_FILE PASSWORD} adds root
 * and the bench user (both with PASSWORD; bench may read and write every key, as the Go load
 * generator's keys are binary) and enables auth. Exit status 2 on a usage error, 1 on a failure.
 */
public final class SecureSetup {
  private SecureSetup() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("certs")) {
      TlsFiles.generate(Path.of(args[1]).toAbsolutePath());
      return;
    }
    if (args.length == 4 && args[0].equals("auth")) {
      ManagedChannel channel = ClientSecurity.tls(Path.of(args[2]), null, null).builder(args[1]).build();
      try {
        ByteString allKeys = ByteString.copyFrom(new byte[] {0});
        AuthSetup.enable(channel, args[3], allKeys, allKeys, 30_000);
      } finally {
        channel.shutdownNow();
      }
      return;
    }
    System.err.println("usage: secure-setup certs DIR | secure-setup auth HOST:PORT CA_FILE PASSWORD");
    System.exit(2);
  }
}
