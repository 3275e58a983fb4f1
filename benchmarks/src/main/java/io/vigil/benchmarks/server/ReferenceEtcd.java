package io.vigil.benchmarks.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real etcd started through the shared {@code reference-etcd} script, which prints
 * {@code endpoint=127.0.0.1:PORT pid=PID dir=DIR} and is stopped with {@code stop PORT}.
 */
public final class ReferenceEtcd implements ServerHandle {
  private static final Pattern STARTED = Pattern.compile("endpoint=(\\S+) pid=(\\d+)");

  private final Path script;
  private final int port;
  private final String endpoint;
  private final long pid;

  private ReferenceEtcd(Path script, int port, String endpoint, long pid) {
    this.script = script;
    this.port = port;
    this.endpoint = endpoint;
    this.pid = pid;
  }

  public static ReferenceEtcd start(Path script, long startTimeoutMs) throws IOException, InterruptedException {
    if (!Files.isExecutable(script)) {
      throw new IllegalStateException("etcd launcher " + script + " is missing or not executable; "
          + "pass --etcd-launcher or --etcd-endpoint");
    }
    int port = FreePorts.pick(10); // the script puts the peer port at PORT + 10
    String output = run(script, List.of("start", Integer.toString(port)), startTimeoutMs);
    Matcher matcher = STARTED.matcher(output);
    if (!matcher.find()) {
      throw new IllegalStateException(script + " start " + port + " printed no endpoint/pid: " + output);
    }
    ReferenceEtcd etcd = new ReferenceEtcd(script, port, matcher.group(1), Long.parseLong(matcher.group(2)));
    try {
      Readiness.await(etcd.endpoint, ClientSecurity.PLAINTEXT, startTimeoutMs, () -> ProcessHandle.of(etcd.pid).isPresent());
    } catch (RuntimeException | InterruptedException e) {
      etcd.close();
      throw e;
    }
    return etcd;
  }

  @Override
  public String endpoint() {
    return endpoint;
  }

  @Override
  public long pid() {
    return pid;
  }

  @Override
  public String origin() {
    return "started by " + script.getFileName() + " on port " + port;
  }

  @Override
  public void close() {
    try {
      run(script, List.of("stop", Integer.toString(port)), 15_000);
    } catch (IOException | RuntimeException e) {
      System.err.println("warning: stopping etcd on port " + port + " failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String run(Path script, List<String> args, long timeoutMs) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(script.toString()));
    command.addAll(args);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(command + " did not finish within " + timeoutMs + " ms");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IllegalStateException(command + " exited " + process.exitValue() + ": " + text);
    }
    return text;
  }
}
