package io.vigil.server;

import static io.vigil.server.ClusterClients.PATIENCE;
import static io.vigil.server.ClusterClients.awaitLeader;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each member publishes its name and client URLs through the log (etcd's publish), so every
 * member lists them from its own applied log: also for a member that is down and was never heard
 * from since a restart, after a member republishes on other client URLs, and for learners.
 */
class MemberAttributesTest {
    private static final Pattern INITIAL_CLUSTER = Pattern.compile("ETCD_INITIAL_CLUSTER=\"([^\"]+)\"");

    @TempDir
    Path dir;

    @BeforeAll
    static void needsEtcdctl() {
        ReferenceEtcd.assumeInstalled();
    }

    private static String memberList(String endpoint) {
        Etcdctl.Result r = Etcdctl.run(endpoint, null, "member", "list");
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout();
    }

    /** etcdctl's line for a started member, without its id. */
    private static String started(String name, String peerUrl, String clientUrl, boolean learner) {
        return ", started, " + name + ", " + peerUrl + ", " + clientUrl + ", " + learner;
    }

    private static void awaitListed(String endpoint, String line) {
        await().atMost(PATIENCE).ignoreExceptions().until(() -> memberList(endpoint).contains(line));
    }

    /** Member i's flags as {@link VigilCluster} starts it, with other client URLs to advertise. */
    private static VigilProcess startAdvertising(VigilCluster c, Path dataDir, int i, String clientPort, String advertised) {
        String initial = "m1=" + c.peerUrl(0) + ",m2=" + c.peerUrl(1) + ",m3=" + c.peerUrl(2);
        return VigilProcess.start(dataDir, "--name", VigilCluster.name(i), "--initial-cluster", initial,
                "--listen-peer-urls", c.peerUrl(i), "--initial-advertise-peer-urls", c.peerUrl(i),
                "--listen-client-urls", "http://127.0.0.1:" + clientPort, "--advertise-client-urls", advertised);
    }

    @Test
    void membersListWhatEachMemberPublishedThroughTheLog() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            awaitLeader(c);
            String m3Endpoint = c.endpoint(2);
            String m3 = started("m3", c.peerUrl(2), "http://" + m3Endpoint, false);
            for (int i = 0; i < 3; i++) {
                awaitListed(c.endpoint(i), m3);
            }

            // m1 restarts while m3 is down: it never hears from m3 again, yet lists it from its log
            c.stop(2);
            c.stop(0);
            c.startMember(0);
            String afterRestart = memberList(c.endpoint(0));
            assertTrue(afterRestart.contains(m3), afterRestart);
            assertTrue(afterRestart.contains(started("m2", c.peerUrl(1), "http://" + c.endpoint(1), false)), afterRestart);

            // m3 comes back advertising another client URL: it republishes, and every member lists the new one
            String port = m3Endpoint.substring(m3Endpoint.lastIndexOf(':') + 1);
            String advertised = "http://localhost:" + port;
            try (VigilProcess again = startAdvertising(c, dir.resolve("m3"), 2, port, advertised)) {
                String republished = started("m3", c.peerUrl(2), advertised, false);
                awaitListed(c.endpoint(0), republished);
                awaitListed(c.endpoint(1), republished);
                awaitListed(again.endpoint(), republished);
                assertTrue(again.output().stream().anyMatch(l -> l.contains("published name m3")),
                        String.join("\n", again.output()));

                // a learner publishes too (the core forwards its proposal to the leader)
                String learnerPeer = "http://127.0.0.1:" + VigilCluster.freePort();
                Etcdctl.Result add = Etcdctl.run(c.endpoint(1), null, "member", "add", "m4", "--learner",
                        "--peer-urls=" + learnerPeer);
                assertEquals(0, add.exitCode(), add.stderr());
                assertTrue(memberList(c.endpoint(0)).contains(", unstarted, , " + learnerPeer + ", , true"),
                        "not published before it starts");
                Matcher initial = INITIAL_CLUSTER.matcher(add.stdout());
                assertTrue(initial.find(), add.stdout());
                try (VigilProcess m4 = VigilProcess.start(dir.resolve("m4"), "--name", "m4",
                        "--initial-cluster", initial.group(1), "--initial-cluster-state", "existing",
                        "--initial-advertise-peer-urls", learnerPeer, "--listen-peer-urls", learnerPeer,
                        "--listen-client-urls", "http://127.0.0.1:" + VigilCluster.freePort())) {
                    awaitListed(c.endpoint(0), started("m4", learnerPeer, "http://" + m4.endpoint(), true));
                }
            }
        }
    }
}
