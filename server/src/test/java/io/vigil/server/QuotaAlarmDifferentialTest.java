package io.vigil.server;

import static io.vigil.server.ClusterClients.awaitLeader;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The space quota, as an operator meets it with etcdctl, against a real etcd 3.4 and Vigil, both
 * with a 1 MiB quota: writes fill the store until a put is refused with "database space exceeded"
 * and the NOSPACE alarm is raised; reads, deletes and read-only txns still work while puts and
 * lease grants are refused; disarming alone does not help while the file is still over the quota;
 * compaction, defragmentation and disarm clear it, and the store shrinks. Every step must print
 * the same thing on both (ids, endpoints and counts that depend on the storage engine aside).
 */
class QuotaAlarmDifferentialTest {
    static final String QUOTA = "1048576";
    private static final String VALUE = "x".repeat(20_000);

    @TempDir
    Path tmp;

    @Test
    void theQuotaAlarmBehavesAsEtcds() throws Exception {
        BothServers.Results<Session> r = BothServers.run(tmp, new String[] {"--quota-backend-bytes", QUOTA},
                QuotaAlarmDifferentialTest::session);
        assertEquals(r.etcd().transcript(), r.vigil().transcript());
        for (Session s : List.of(r.etcd(), r.vigil())) {
            assertTrue(s.sizeAfterDefrag() < s.sizeAtAlarm() / 2,
                    "defragmentation gives the space back: " + s.sizeAtAlarm() + " -> " + s.sizeAfterDefrag());
        }
    }

    /** One server's printed session, normalized, and its db sizes. */
    record Session(String transcript, long sizeAtAlarm, long sizeAfterDefrag) {
    }

    private static Session session(String endpoint) {
        List<String> out = new ArrayList<>();
        int puts = fillUntilRefused(endpoint);
        out.add("a put was refused after " + (puts > 10 ? "more than 10" : puts) + " puts");
        out.add(step(endpoint, null, "put", "k0", VALUE.substring(0, 10)));
        out.add(step(endpoint, null, "alarm", "list"));
        long sizeAtAlarm = dbSize(endpoint);
        out.add(statusErrors(endpoint));
        out.add(step(endpoint, null, "get", "k1", "--print-value-only", "--keys-only"));
        out.add(step(endpoint, null, "del", "k2"));
        out.add(step(endpoint, "\n\nget k1 --keys-only\n\n", "txn"));
        out.add(step(endpoint, null, "lease", "grant", "100"));
        out.add(step(endpoint, "\n\nput k5 v\n\n", "txn"));
        out.add(step(endpoint, null, "alarm", "disarm"));
        // still over the quota: a put of the size that was refused is refused again (a smaller one
        // may fit in what is left, which depends on the storage engine)
        out.add(step(endpoint, null, "put", "k0", VALUE));
        out.add(step(endpoint, null, "compact", Long.toString(revision(endpoint))).replaceFirst("compact \\d+", "compact HEAD"));
        out.add(step(endpoint, null, "defrag"));
        out.add(step(endpoint, null, "alarm", "disarm"));
        out.add(step(endpoint, null, "alarm", "list"));
        out.add(step(endpoint, null, "put", "z", "z"));
        out.add(statusErrors(endpoint));
        return new Session(String.join("\n", out), sizeAtAlarm, dbSize(endpoint));
    }

    /** Puts 20 kB values under ten keys until one is refused; the number of puts that succeeded. */
    static int fillUntilRefused(String endpoint) {
        for (int i = 0; i < 1000; i++) {
            Etcdctl.Result r = Etcdctl.run(endpoint, null, "put", "k" + (i % 10), VALUE);
            if (r.exitCode() != 0) {
                assertTrue(r.stderr().contains("etcdserver: mvcc: database space exceeded"), r.stderr());
                return i;
            }
        }
        throw new AssertionError("1000 puts of 20 kB fitted in a 1 MiB quota");
    }

    private static String step(String endpoint, String stdin, String... args) {
        List<String> shown = new ArrayList<>();
        for (String a : args) {
            shown.add(a.length() > 40 ? "<" + a.length() + " bytes>" : a);
        }
        return "$ etcdctl " + String.join(" ", shown) + "\n" + Etcdctl.run(endpoint, stdin, args).normalized()
                .replaceAll("memberID:\\d+", "memberID:ID")
                .replaceAll("compacted revision \\d+", "compacted revision N")
                .replaceAll("member\\[[^]]*]", "member[ENDPOINT]");
    }

    private static final Pattern DB_SIZE = Pattern.compile("\"dbSize\":(\\d+)");
    private static final Pattern REVISION = Pattern.compile("\"revision\":(\\d+)");
    private static final Pattern ERRORS = Pattern.compile("\"errors\":\\[([^]]*)]");

    static long dbSize(String endpoint) {
        return Long.parseLong(find(DB_SIZE, Etcdctl.run(endpoint, null, "endpoint", "status", "-w", "json").stdout()));
    }

    private static long revision(String endpoint) {
        return Long.parseLong(find(REVISION, Etcdctl.run(endpoint, null, "get", "k1", "-w", "json").stdout()));
    }

    static String statusErrors(String endpoint) {
        Matcher m = ERRORS.matcher(Etcdctl.run(endpoint, null, "endpoint", "status", "-w", "json").stdout());
        return "status errors: " + (m.find() ? m.group(1).replaceAll("memberID:\\d+", "memberID:ID") : "none");
    }

    private static String find(Pattern p, String s) {
        Matcher m = p.matcher(s);
        assertTrue(m.find(), p + " in " + s);
        return m.group(1);
    }

    /** The alarm is in the store: a restarted member still has it and still refuses puts. */
    @Test
    void theAlarmSurvivesARestart() throws Exception {
        ReferenceEtcd.assumeInstalled();
        Path data = tmp.resolve("vigil");
        try (VigilProcess vigil = VigilProcess.start(data, "--quota-backend-bytes", QUOTA)) {
            fillUntilRefused(vigil.endpoint());
        }
        try (VigilProcess vigil = VigilProcess.start(data, "--quota-backend-bytes", QUOTA)) {
            assertEquals("$ etcdctl alarm list\nexit 0\nmemberID:ID alarm:NOSPACE", step(vigil.endpoint(), null, "alarm", "list").strip());
            Etcdctl.Result put = Etcdctl.run(vigil.endpoint(), null, "put", "small", "v");
            assertTrue(put.stderr().contains("etcdserver: mvcc: database space exceeded"), put.stderr());
        }
    }

    /** Alarms go through the log: every member of a cluster lists the one a member raised, and refuses puts. */
    @Test
    void everyMemberOfAClusterAgreesOnTheAlarm() throws Exception {
        ReferenceEtcd.assumeInstalled();
        try (VigilCluster c = VigilCluster.start(tmp, 3, "--quota-backend-bytes", QUOTA)) {
            awaitLeader(c);
            fillUntilRefused(c.endpoint(0));
            for (int i = 0; i < 3; i++) {
                int member = i;
                await().atMost(ClusterClients.PATIENCE).untilAsserted(() ->
                        assertTrue(statusErrors(c.endpoint(member)).contains("\"memberID:ID alarm:NOSPACE \""), c.logs()));
            }
            for (int i = 0; i < 3; i++) {
                // a member whose own file is as full raises NOSPACE for itself too, as etcd's do
                Etcdctl.Result put = Etcdctl.run(c.endpoint(i), null, "put", "small", "v");
                assertTrue(put.stderr().contains("etcdserver: mvcc: database space exceeded"), put.stderr());
                assertEquals(0, Etcdctl.run(c.endpoint(i), null, "get", "k1").exitCode());
            }
            await().atMost(ClusterClients.PATIENCE).untilAsserted(() -> {
                String first = Etcdctl.run(c.endpoint(0), null, "alarm", "list").stdout();
                for (int i = 1; i < 3; i++) {
                    assertEquals(first, Etcdctl.run(c.endpoint(i), null, "alarm", "list").stdout(), "the members list the same alarms");
                }
            });
        }
    }
}
