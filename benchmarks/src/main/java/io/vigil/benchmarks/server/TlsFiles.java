package io.vigil.benchmarks.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away CA and one server certificate it signed (SAN IP 127.0.0.1 and localhost, RSA 2048,
 * unencrypted PEM keys), made with openssl by the commands of README.md's TLS section. Both
 * servers of a secure run present the same certificate, so their handshakes cost the same.
 */
public record TlsFiles(Path dir, Path caCert, Path serverCert, Path serverKey) {

  /** Whether openssl runs here ({@code openssl version}). */
  public static boolean opensslInstalled() {
    try {
      Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public static TlsFiles generate(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    TlsFiles files = new TlsFiles(dir, dir.resolve("ca.crt"), dir.resolve("server.crt"), dir.resolve("server.key"));
    Path caKey = dir.resolve("ca.key");
    Path csr = dir.resolve("server.csr");
    Path ext = dir.resolve("server.ext");
    Files.writeString(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=vigil-bench-ca",
        "-keyout", caKey.toString(), "-out", files.caCert.toString());
    openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=vigil-bench-server",
        "-keyout", files.serverKey.toString(), "-out", csr.toString());
    openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", files.caCert.toString(), "-CAkey", caKey.toString(),
        "-CAcreateserial", "-days", "2", "-out", files.serverCert.toString(), "-extfile", ext.toString());
    return files;
  }

  private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException(command + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
  }
}
