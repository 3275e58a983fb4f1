package io.vigil.server;

import io.vigil.proto.etcdserverpb.AlarmMember;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The client port's plain-HTTP health and version answers, each as etcd's:
 *
 * <ul>
 *   <li>{@code GET /health}: etcd 3.4's. Unhealthy when an alarm is active, the member knows no
 *       leader, or a quorum read does not complete within a second (etcd's v2 quorum GET; here a
 *       ReadIndex). 200 {@code {"health":"true"}}, else 503 {@code {"health":"false"}} and a
 *       newline (Go's http.Error); etcd 3.4 logs the reason and does not send it, and so does
 *       Vigil.
 *   <li>{@code GET /version}: {@code {"etcdserver":"3.4.0","etcdcluster":"3.4.0"}}.
 *   <li>{@code /livez} and {@code /readyz}: etcd 3.5's (Kubernetes' style). Live: the member
 *       answers reads from its own store. Ready: also no CORRUPT alarm, and a linearizable read
 *       completes, i.e. this member has applied everything the leader had committed when asked
 *       (ReadIndex), within the request timeout. 200 {@code ok}; with {@code ?verbose} one line per
 *       check and "/readyz check passed"; failed: 503 with every check's line and
 *       "/readyz check failed". {@code ?exclude=NAME} skips a check.
 * </ul>
 *
 * Other methods than GET get 405 "Method Not Allowed", as etcd's handlers answer them.
 */
final class HealthEndpoints {
    /** An HTTP answer: status, content type (null: none) and body. */
    record Answer(int status, String contentType, String body) {
    }

    static final String TEXT = "text/plain; charset=utf-8";
    private static final long QUORUM_READ_TIMEOUT_MS = 1000;

    private final Supplier<List<AlarmMember>> alarms;
    private final BooleanSupplier hasLeader;
    private final Supplier<CompletableFuture<Void>> readIndex;
    private final Supplier<Long> localRead;
    private final long readyTimeoutMs;

    /**
     * @param readIndex a linearizable read point: completes once this member has applied what the
     *     leader had committed
     * @param localRead a serializable read of this member's store (it throws when the store is gone)
     */
    HealthEndpoints(Supplier<List<AlarmMember>> alarms, BooleanSupplier hasLeader,
                    Supplier<CompletableFuture<Void>> readIndex, Supplier<Long> localRead, long readyTimeoutMs) {
        this.alarms = alarms;
        this.hasLeader = hasLeader;
        this.readIndex = readIndex;
        this.localRead = localRead;
        this.readyTimeoutMs = readyTimeoutMs;
    }

    static boolean serves(String path) {
        return path.equals("/health") || path.equals("/version") || path.equals("/livez") || path.equals("/readyz");
    }

    /** The answer to {@code method path?query} for a path {@link #serves} says it serves; may complete later. */
    CompletableFuture<Answer> answer(String method, String path, String query) {
        if (!method.equals("GET")) {
            return CompletableFuture.completedFuture(new Answer(405, TEXT, "Method Not Allowed\n"));
        }
        return switch (path) {
            case "/health" -> health();
            case "/version" -> CompletableFuture.completedFuture(new Answer(200, "application/json",
                    "{\"etcdserver\":\"" + MaintenanceService.VERSION + "\",\"etcdcluster\":\""
                            + MaintenanceService.VERSION + "\"}"));
            case "/livez" -> checks("/livez", query, List.of(serializableRead()));
            default -> checks("/readyz", query, List.of(noCorruption(), serializableRead(), linearizableRead()));
        };
    }

    private CompletableFuture<Answer> health() {
        String reason = null;
        List<AlarmMember> active = alarms.get();
        if (!active.isEmpty()) {
            reason = "ALARM " + active.get(active.size() - 1).getAlarm();
        } else if (!hasLeader.getAsBoolean()) {
            reason = "RAFT NO LEADER";
        }
        if (reason != null) {
            return CompletableFuture.completedFuture(unhealthy(reason));
        }
        return readIndex.get().orTimeout(QUORUM_READ_TIMEOUT_MS, TimeUnit.MILLISECONDS).handle((ok, failure) -> failure == null
                ? new Answer(200, TEXT, "{\"health\":\"true\"}")
                : unhealthy("QGET ERROR:" + EtcdErrors.toStatus(failure).getStatus().getDescription()));
    }

    private static Answer unhealthy(String reason) {
        VigilServer.LOG.log(System.Logger.Level.WARNING, "/health error; " + reason + " (status code 503)");
        return new Answer(503, TEXT, "{\"health\":\"false\"}\n");
    }

    /** A named check: completes with null when it passes, else with why not. */
    private record Check(String name, Supplier<CompletableFuture<String>> run) {
    }

    private Check noCorruption() {
        return new Check("data_corruption", () -> CompletableFuture.completedFuture(alarms.get().stream()
                .anyMatch(a -> a.getAlarm() == io.vigil.proto.etcdserverpb.AlarmType.CORRUPT) ? "Alarm active:CORRUPT" : null));
    }

    private Check serializableRead() {
        return new Check("serializable_read", () -> {
            try {
                localRead.get();
                return CompletableFuture.completedFuture(null);
            } catch (RuntimeException e) {
                return CompletableFuture.completedFuture(String.valueOf(e.getMessage()));
            }
        });
    }

    private Check linearizableRead() {
        return new Check("linearizable_read", () -> readIndex.get().orTimeout(readyTimeoutMs, TimeUnit.MILLISECONDS)
                .handle((ok, failure) -> failure == null ? null : EtcdErrors.toStatus(failure).getStatus().getDescription()));
    }

    private static CompletableFuture<Answer> checks(String path, String query, List<Check> checks) {
        Set<String> excluded = new HashSet<>();
        boolean verbose = false;
        for (String param : query == null ? new String[0] : query.split("&")) {
            String[] kv = param.split("=", 2);
            if (kv[0].equals("verbose")) {
                verbose = true;
            } else if (kv[0].equals("exclude") && kv.length == 2) {
                excluded.addAll(Arrays.asList(kv[1].split(",")));
            }
        }
        List<CompletableFuture<String>> results = new ArrayList<>();
        for (Check c : checks) {
            results.add(excluded.contains(c.name()) ? CompletableFuture.completedFuture(null) : c.run().get());
        }
        boolean verboseOut = verbose;
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).handle((v, t) -> {
            StringBuilder lines = new StringBuilder();
            boolean failed = false;
            for (int i = 0; i < checks.size(); i++) {
                String name = checks.get(i).name();
                String why = results.get(i).join();
                if (excluded.contains(name)) {
                    lines.append("[+]").append(name).append(" excluded: ok\n");
                } else if (why == null) {
                    lines.append("[+]").append(name).append(" ok\n");
                } else {
                    failed = true;
                    lines.append("[-]").append(name).append(" failed: ").append(why).append('\n');
                }
            }
            if (failed) {
                return new Answer(503, TEXT, lines + path + " check failed\n");
            }
            if (!verboseOut) {
                return new Answer(200, TEXT, "ok");
            }
            return new Answer(200, TEXT, lines + path + " check passed\n");
        });
    }
}
