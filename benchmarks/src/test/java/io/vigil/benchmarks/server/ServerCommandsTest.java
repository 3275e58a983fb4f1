package io.vigil.benchmarks.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerCommandsTest {
  private static final TlsFiles TLS = new TlsFiles(Path.of("/t"), Path.of("/t/ca.crt"), Path.of("/t/server.crt"),
      Path.of("/t/server.key"));

  @Test
  void plainVigilIsStartedAsBefore() {
    assertEquals(List.of("/r/bin/vigil", "serve", "--data-dir", "/d", "--listen-client-urls", "http://127.0.0.1:2379",
            "--advertise-client-urls", "http://127.0.0.1:2379"),
        ServerCommands.vigil(Path.of("/r/bin/vigil"), 2379, Path.of("/d"), null));
  }

  @Test
  void secureServersGetTheSameHttpsUrlAndCertificate() {
    List<String> vigil = ServerCommands.vigil(Path.of("/r/bin/vigil"), 2379, Path.of("/d"), TLS);
    List<String> etcd = ServerCommands.etcd("etcd", 2379, Path.of("/d"), TLS);
    List<String> tlsTail = List.of("--cert-file", "/t/server.crt", "--key-file", "/t/server.key");
    assertEquals(tlsTail, vigil.subList(vigil.size() - 4, vigil.size()));
    assertEquals(tlsTail, etcd.subList(etcd.size() - 4, etcd.size()));
    for (List<String> command : List.of(vigil, etcd)) {
      assertEquals("https://127.0.0.1:2379", command.get(command.indexOf("--listen-client-urls") + 1));
      assertEquals("https://127.0.0.1:2379", command.get(command.indexOf("--advertise-client-urls") + 1));
    }
  }

  @Test
  void etcdHasTheReferenceScriptsPeerPortAndFlags() {
    assertEquals(List.of("etcd", "--name", "ref", "--data-dir", "/d",
            "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
            "--listen-peer-urls", "http://127.0.0.1:2389", "--initial-advertise-peer-urls", "http://127.0.0.1:2389",
            "--initial-cluster", "ref=http://127.0.0.1:2389", "--log-level", "error"),
        ServerCommands.etcd("etcd", 2379, Path.of("/d"), null));
  }

  @Test
  void benchUserMayTouchEveryBenchmarkKeyAndNothingElse() {
    assertEquals(ByteString.copyFromUtf8("vb0"), AuthSetup.prefixEnd(AuthSetup.PREFIX));
    assertEquals("bench", ClientSecurity.tls(Path.of("/t/ca.crt"), AuthSetup.USER, "pw").userAndPassword()
        .split(":")[0]);
  }

  @Test
  void plaintextHasNoTlsAndNoUser() {
    assertEquals(false, ClientSecurity.PLAINTEXT.isTls());
    assertEquals(null, ClientSecurity.PLAINTEXT.userAndPassword());
  }
}
