package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A differential session of the JSON gateway: the same curl requests, one step at a time, against
 * a fresh real etcd 3.4 and a fresh Vigil process (both at revision 1), each answer (HTTP status
 * and body) compared byte for byte once what legitimately differs is masked: cluster, member and
 * leader ids, raft term and indexes, the server's version, database sizes and hashes, peer and
 * client URLs, member names, auth tokens. Skipped where etcd or curl is not installed (unless
 * CI requires etcd).
 */
final class GatewaySession {
    private static final Pattern TOKEN = Pattern.compile("\"token\":\"([^\"]*)\"");
    private static final Pattern NUMBERS = Pattern.compile(
            "\"(cluster_id|member_id|raft_term|leader|raftTerm|raftIndex|raftAppliedIndex|dbSize|dbSizeInUse|hash)\":\"\\d+\"");

    /** What a step does against one server, and what it answers (already masked, or masked by {@link #mask}). */
    interface Action {
        String run(GatewaySession session) throws Exception;
    }

    record Step(String name, Action action) {
        @Override
        public String toString() {
            return name;
        }
    }

    private final String endpoint;
    /** The last auth token a step's answer carried, sent by the steps that authenticate. */
    private String token;

    private GatewaySession(String endpoint) {
        this.endpoint = endpoint;
    }

    String endpoint() {
        return endpoint;
    }

    /** POST {@code body} to {@code path}, without a token. */
    static Step post(String path, String body) {
        return new Step("POST " + path + " " + body, s -> s.call(path, body, null));
    }

    /** POST {@code body} to {@code path} with the last token seen as Authorization. */
    static Step postWithToken(String path, String body) {
        return new Step("POST (token) " + path + " " + body, s -> s.call(path, body, s.token));
    }

    /** POST with a given Authorization header. */
    static Step postAs(String authorization, String path, String body) {
        return new Step("POST (Authorization: " + authorization + ") " + path + " " + body, s -> s.call(path, body, authorization));
    }

    /**
     * {@code step} with {@code regex} replaced in both servers' answers: a difference known and
     * left, named by {@code why} (kept in the step's name, so a report shows it).
     */
    static Step known(Step step, String regex, String replacement, String why) {
        return new Step(step.name() + " [known difference: " + why + "]",
                s -> step.action().run(s).replaceAll(regex, replacement));
    }

    /** Any method, no body. */
    static Step request(String method, String path) {
        return new Step(method + " " + path, s -> mask(Curl.request(s.endpoint, method, path).toString()));
    }

    private String call(String path, String body, String authorization) {
        String answer = Curl.post(endpoint, path, body, authorization).toString();
        Matcher m = TOKEN.matcher(answer);
        if (m.find()) {
            token = m.group(1);
        }
        return mask(answer);
    }

    /** An answer with what differs between two servers for good reasons masked. */
    static String mask(String answer) {
        return NUMBERS.matcher(answer).replaceAll("\"$1\":\"N\"")
                .replaceAll("\"hash\":\\d+", "\"hash\":N")
                .replaceAll("\"ID\":\"\\d+\",\"name\"", "\"ID\":\"N\",\"name\"")
                .replaceAll("\"name\":\"[^\"]*\",\"peerURLs\"", "\"name\":\"NAME\",\"peerURLs\"")
                .replaceAll("\"(peerURLs|clientURLs)\":\\[[^\\]]*\\]", "\"$1\":[URLS]")
                .replaceAll("\"version\":\"[^\"]*\"", "\"version\":\"V\"")
                .replaceAll("\"token\":\"[^\"]*\"", "\"token\":\"TOKEN\"");
    }

    /** Runs {@code steps} against a real etcd and a Vigil process, step by step, and fails on any answer that differs. */
    static void compare(Path tmp, List<Step> steps) throws Exception {
        ReferenceEtcd.assumeInstalled();
        Curl.assumeInstalled();
        List<String> mismatches = new ArrayList<>();
        try (ReferenceEtcd etcd = ReferenceEtcd.start(tmp); VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            GatewaySession onEtcd = new GatewaySession(etcd.endpoint());
            GatewaySession onVigil = new GatewaySession(vigil.endpoint());
            for (Step step : steps) {
                String expected = step.action().run(onEtcd);
                String actual = step.action().run(onVigil);
                if (!expected.equals(actual)) {
                    mismatches.add(step + "\n--- etcd:\n" + expected + "\n--- vigil:\n" + actual);
                }
            }
        }
        assertEquals("", String.join("\n\n", mismatches));
    }
}
