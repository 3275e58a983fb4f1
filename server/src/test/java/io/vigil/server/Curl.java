package io.vigil.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs curl (Debian's) against a server's client port, as a user of the JSON gateway would. */
final class Curl {
    /** An HTTP answer: status and body as received. */
    record Reply(int status, String body) {
        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    private Curl() {
    }

    static void assumeInstalled() {
        org.junit.jupiter.api.Assumptions.assumeTrue(ReferenceEtcd.onPath("curl"), "curl not installed");
    }

    /** Base64 of a UTF-8 string, as keys and values travel in etcd's JSON. */
    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code curl -X POST -d body http://endpoint/path} (with the token as Authorization when not null). */
    static Reply post(String endpoint, String path, String body, String token) {
        List<String> cmd = new ArrayList<>(List.of("-X", "POST", "-d", body));
        if (token != null) {
            cmd.addAll(List.of("-H", "Authorization: " + token));
        }
        return run(endpoint, path, cmd);
    }

    /** {@code curl -X method http://endpoint/path}. */
    static Reply request(String endpoint, String method, String path) {
        return run(endpoint, path, List.of("-X", method));
    }

    private static Reply run(String endpoint, String path, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "60", "-w", "\n%{http_code}"));
        cmd.addAll(args);
        cmd.add("http://" + endpoint + path);
        Etcdctl.Result r = Etcdctl.capture(new ProcessBuilder(cmd), null, 90);
        if (r.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + r.stderr());
        }
        String out = r.stdout();
        int nl = out.lastIndexOf('\n');
        return new Reply(Integer.parseInt(out.substring(nl + 1).trim()), out.substring(0, nl));
    }

    /**
     * A streamed POST ({@code curl -N}: each chunk printed as it comes), read line by line: one
     * JSON object per line on the gateway's streams. Closing it kills curl (the client goes away).
     */
    static final class Stream implements AutoCloseable {
        private static final String END = new String("end of stream");
        private final Process process;
        private final java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();

        Stream(String endpoint, String path, String body) {
            this(endpoint, path, List.of("-X", "POST", "-d", body));
        }

        /** {@code curl -sS -N args... http://endpoint/path}. */
        Stream(String endpoint, String path, List<String> args) {
            List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-N"));
            cmd.addAll(args);
            cmd.add("http://" + endpoint + path);
            try {
                process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // curl went away
                }
                lines.add(END);
            }, "curl-stream");
            reader.setDaemon(true);
            reader.start();
        }

        /** Whether the stream ends next (after the lines read so far, nothing but its end). */
        boolean ends() throws InterruptedException {
            String line = lines.poll(ClusterClients.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new IllegalStateException("nothing came within " + ClusterClients.PATIENCE);
            }
            return line == END;
        }

        /** The next line; fails if the stream ended instead, or nothing came within the tests' patience (a hang, not a timing). */
        String next() throws InterruptedException {
            String line = lines.poll(ClusterClients.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null || line == END) {
                throw new IllegalStateException(line == null ? "nothing came within " + ClusterClients.PATIENCE : "the stream ended");
            }
            return line;
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
