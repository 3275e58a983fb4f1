package io.vigil.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** Runs the real etcdctl (API v3) against an endpoint and captures what it printed. */
final class Etcdctl {
    record Result(int exitCode, String stdout, String stderr) {
        /**
         * What a user reads, with what legitimately differs between two servers masked: cluster
         * and member ids, raft term, and etcdctl's own retry log lines (timestamps, client ids).
         */
        String normalized() {
            String out = stdout
                    .replaceAll("\"cluster_id\":\\d+", "\"cluster_id\":ID")
                    .replaceAll("\"member_id\":\\d+", "\"member_id\":ID")
                    .replaceAll("\"raft_term\":\\d+", "\"raft_term\":TERM");
            String err = stderr.lines()
                    .filter(l -> !l.startsWith("{\"level\":"))
                    .collect(Collectors.joining("\n"));
            return "exit " + exitCode + "\n" + out + (err.isEmpty() ? "" : "\nstderr: " + err);
        }
    }

    private Etcdctl() {
    }

    static Result run(String endpoint, String stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", endpoint, "--dial-timeout", "5s",
                "--command-timeout", "10s"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("ETCDCTL_API", "3");
        return capture(pb, stdin, 60);
    }

    /**
     * Runs a command that ends by itself, feeding it {@code stdin} (or nothing), and returns its
     * exit code and what it printed on each stream; one that has not ended after
     * {@code timeoutSeconds} is killed and reported as hung.
     */
    static Result capture(ProcessBuilder pb, String stdin, long timeoutSeconds) {
        try {
            Process p = pb.start();
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            var out = new java.util.concurrent.CompletableFuture<byte[]>();
            Thread t = new Thread(() -> {
                try {
                    out.complete(p.getInputStream().readAllBytes());
                } catch (IOException e) {
                    out.completeExceptionally(e);
                }
            });
            t.start();
            byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", pb.command()) + " hung");
            }
            return new Result(p.exitValue(), new String(out.get(), StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }
}
