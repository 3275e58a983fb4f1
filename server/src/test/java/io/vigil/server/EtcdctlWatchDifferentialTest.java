package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code etcdctl watch} against a fresh Vigil process and a fresh real etcd 3.4, fed the same
 * writes: history replay from a revision, then live events, for a key, a prefix, a range, every
 * key, with --prev-kv and in JSON (revisions and headers included). Each watch must print the
 * same thing on both. Then a watch from a compacted revision must fail the same way.
 */
class EtcdctlWatchDifferentialTest {
    @TempDir
    Path tmp;

    /** Before any watch: the history the watches replay. */
    private static final List<String[]> HISTORY = List.of(
            new String[] {"put", "a", "1"},
            new String[] {"put", "b", "2"},
            new String[] {"put", "a", "3"},
            new String[] {"put", "ab", "4"},
            new String[] {"del", "a"},
            new String[] {"put", "abc", "5"},
            new String[] {"put", "c", "6"},
            new String[] {"del", "--prefix", "ab"},
            new String[] {"put", "a", "7"});
    /** A txn, two keys in one revision. */
    private static final String TXN = "\nput a 8\nput b 9\n\n\n";
    /** After the watches started: live events; every watch below covers key "a", so END ends it. */
    private static final List<String[]> LIVE = List.of(
            new String[] {"put", "ab", "10"},
            new String[] {"del", "a", "--prev-kv"},
            new String[] {"put", "a", "11"},
            new String[] {"put", "b", "12"},
            new String[] {"put", "a", "END"});

    /** Watches by name; LIVE_REV is replaced by the revision after the history. */
    private static final Map<String, List<String>> WATCHES = new LinkedHashMap<>();

    static {
        WATCHES.put("key from 1", List.of("watch", "--rev=1", "a"));
        WATCHES.put("prefix with prev-kv", List.of("watch", "--rev=2", "--prefix", "a", "--prev-kv"));
        WATCHES.put("range [a, c)", List.of("watch", "--rev=3", "a", "c"));
        WATCHES.put("every key", List.of("watch", "--rev=1", "--prefix", ""));
        WATCHES.put("prefix in json", List.of("watch", "--rev=1", "--prefix", "a", "-w", "json"));
        WATCHES.put("live only", List.of("watch", "--rev=LIVE_REV", "--prefix", "a", "--prev-kv"));
        WATCHES.put("json from 6", List.of("watch", "--rev=6", "a", "-w", "json"));
    }

    @Test
    void watchOutputMatchesRealEtcd() throws Exception {
        BothServers.Results<Map<String, String>> results = BothServers.run(tmp, EtcdctlWatchDifferentialTest::session);
        Map<String, String> expected = results.etcd();
        Map<String, String> actual = results.vigil();
        List<String> mismatches = new ArrayList<>();
        for (String name : expected.keySet()) {
            if (!expected.get(name).equals(actual.get(name))) {
                mismatches.add(name + "\n--- etcd:\n" + expected.get(name) + "\n--- vigil:\n" + actual.get(name));
            }
        }
        assertEquals("", String.join("\n\n", mismatches));
    }

    /**
     * {@code etcdctl watch -i}: several watches on one stream, created from stdin, replay then
     * live, and a {@code progress} request once the replays are in (etcdctl 3.4 has no
     * --progress-notify flag; WatchServiceTest covers progress_notify). Interactive watches print
     * from one goroutine each, a line per write, so the lines of two watches' events interleave
     * when they print at once: the output is compared as a sorted list of lines, each watch's own
     * events and order being checked by the test above.
     */
    @Test
    void interactiveWatchesMatchRealEtcd() throws Exception {
        BothServers.Results<Map<String, String>> results =
                BothServers.run(tmp, EtcdctlWatchDifferentialTest::interactiveSession);
        assertEquals(results.etcd(), results.vigil());
    }

    private static Map<String, String> interactiveSession(String endpoint) throws Exception {
        for (String[] w : HISTORY) {
            Etcdctl.run(endpoint, null, w);
        }
        Map<String, String> out = new LinkedHashMap<>();
        RunningWatch interactive = RunningWatch.start(endpoint, List.of("watch", "-i"),
                "watch --rev=2 a\nwatch --rev=3 --prefix ab\nwatch b\n");
        // replays: a at 2, 4, 6, 10 and ab, abc at 5, 7, 9, 9
        await("interactive replay").atMost(Duration.ofSeconds(30))
                .until(interactive::output, o -> eventCount(o) == 8);
        interactive.send("progress\n");
        // clientv3 hands the stream's progress response to each of the three watches
        await("progress").atMost(Duration.ofSeconds(30))
                .until(interactive::output, o -> o.lines().filter(l -> l.startsWith("progress notify")).count() == 3);
        for (String[] w : LIVE) {
            Etcdctl.run(endpoint, null, w);
        }
        await("interactive live").atMost(Duration.ofSeconds(30))
                .until(interactive::output, o -> eventCount(o) == 13);
        String output = interactive.stop();
        out.put("progress", String.join("\n", output.lines().filter(l -> l.startsWith("progress notify")).toList()));
        out.put("interactive output lines, sorted", String.join("\n",
                output.lines().filter(l -> !l.startsWith("progress notify")).sorted().toList()));
        return out;
    }

    /** etcdctl prints an event as its type line then key and value lines: the events printed so far. */
    private static long eventCount(String output) {
        return output.lines().filter(l -> l.equals("PUT") || l.equals("DELETE")).count();
    }

    private static Map<String, String> session(String endpoint) throws Exception {
        for (String[] w : HISTORY) {
            Etcdctl.run(endpoint, null, w);
        }
        Etcdctl.run(endpoint, TXN, "txn");
        // revision 1, the 9 history writes, the txn at 11: live events start at 12
        String liveRev = "12";
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, RunningWatch> running = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> w : WATCHES.entrySet()) {
            List<String> args = w.getValue().stream().map(a -> a.replace("LIVE_REV", liveRev)).toList();
            running.put(w.getKey(), RunningWatch.start(endpoint, args, null));
        }
        // JSON prints one line per response: let every replay finish (it ends with the txn's
        // "put a 8") before live writes, so that responses group the same way on both servers
        for (Map.Entry<String, RunningWatch> r : running.entrySet()) {
            if (!r.getKey().equals("live only")) {
                RunningWatch watch = r.getValue();
                await(r.getKey()).atMost(Duration.ofSeconds(30))
                        .until(watch::output, o -> o.contains("\n8\n") || o.contains("OA=="));
            }
        }
        for (String[] w : LIVE) {
            Etcdctl.run(endpoint, null, w);
        }
        for (Map.Entry<String, RunningWatch> r : running.entrySet()) {
            RunningWatch watch = r.getValue();
            // END is the last write: once printed, everything before it has been
            await(r.getKey()).atMost(Duration.ofSeconds(30))
                    .until(watch::output, o -> o.contains("END") || o.contains("RU5E"));
            out.put(r.getKey(), new Etcdctl.Result(0, watch.stop(), "").normalized());
        }
        Etcdctl.run(endpoint, null, "compact", "8");
        out.put("compacted", Etcdctl.run(endpoint, null, "watch", "--rev=3", "a").normalized());
        // revision 8 (put c) is the newest of its key at the compaction, so both servers keep it
        out.put("at compacted revision", firstLines(endpoint, List.of("watch", "--rev=8", "--prefix", ""), "END"));
        return out;
    }

    private static String firstLines(String endpoint, List<String> args, String last) throws Exception {
        RunningWatch w = RunningWatch.start(endpoint, args, null);
        await(String.join(" ", args)).atMost(Duration.ofSeconds(30)).until(w::output, o -> o.contains(last));
        return w.stop();
    }

    /** An etcdctl watch that runs until stopped, its output collected as it comes. */
    private static final class RunningWatch {
        private final Process process;
        private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        private final Thread reader;

        private RunningWatch(Process process) {
            this.process = process;
            this.reader = new Thread(() -> copy(process.getInputStream()));
            reader.start();
        }

        /** With {@code stdin} (interactive mode) written at once and kept open until stopped. */
        static RunningWatch start(String endpoint, List<String> args, String stdin) throws IOException {
            List<String> cmd = new ArrayList<>(List.of("etcdctl", "--endpoints", endpoint, "--dial-timeout", "5s"));
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("ETCDCTL_API", "3");
            Process p = pb.start();
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
                p.getOutputStream().flush();
            }
            return new RunningWatch(p);
        }

        private void copy(InputStream in) {
            byte[] buf = new byte[4096];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (stdout) {
                        stdout.write(buf, 0, n);
                    }
                }
            } catch (IOException ended) {
                // the process was stopped
            }
        }

        void send(String stdin) throws IOException {
            process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
        }

        String output() {
            synchronized (stdout) {
                return stdout.toString(StandardCharsets.UTF_8);
            }
        }

        String stop() throws InterruptedException {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
            reader.join(10_000);
            return output();
        }
    }
}
