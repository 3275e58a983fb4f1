package io.vigil.server;

import static io.vigil.server.ClusterClients.PATIENCE;
import static io.vigil.server.ClusterClients.awaitLeader;
import static io.vigil.server.ClusterClients.describe;
import static io.vigil.server.ClusterClients.events;
import static io.vigil.server.ClusterClients.prefix;
import static io.vigil.server.ClusterClients.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vigil.proto.etcdserverpb.KVGrpc;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes on real clusters of server processes, driven by etcdctl as an operator
 * would: {@code member add}, then start the new member with the flags etcdctl printed; learners;
 * promote; update; remove. The errors are etcd's.
 */
class MembershipChangeTest {
    private static final Pattern ADDED = Pattern.compile("Member +([0-9a-f]+) added to cluster");
    private static final Pattern MEMBER_ID = Pattern.compile("\"member_id\":(\\d+)");

    @TempDir
    Path dir;

    private final ClusterClients clients = new ClusterClients();

    @BeforeAll
    static void needsEtcdctl() {
        ReferenceEtcd.assumeInstalled();
    }

    @AfterEach
    void closeChannels() {
        clients.close();
    }

    private AddedMember add(String endpoint, String name, boolean learner) {
        return AddedMember.add(dir, endpoint, name, learner);
    }

    private static String memberList(String endpoint) {
        Etcdctl.Result r = Etcdctl.run(endpoint, null, "member", "list");
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout();
    }

    /** What etcdctl printed last on a failure (it prints each retry of an UNAVAILABLE before it). */
    private static String failure(Etcdctl.Result r) {
        assertTrue(r.exitCode() != 0, "expected a failure, got: " + r.stdout());
        String[] lines = r.stderr().trim().split("\n");
        return lines[lines.length - 1];
    }

    private long count(String endpoint, String p) {
        return KVGrpc.newBlockingStub(clients.channel(endpoint)).range(prefix(p, true)).getCount();
    }

    @Test
    void aMemberAddedWithEtcdctlCatchesUpVotesMovesAndOutlivesTheRemovedOnes() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            awaitLeader(c);
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(c.endpoint(0)));
            for (int n = 0; n < 20; n++) {
                kv.put(put("k" + n, "v" + n));
            }
            AddedMember m4 = add(c.endpoint(1), "m4", false);
            try {
                String e4 = m4.process().endpoint();
                // the log from the start reaches the newcomer: the same events at the same revisions
                var onM4 = clients.watch(e4, "k");
                var onM1 = clients.watch(c.endpoint(0), "k");
                assertEquals(describe(events(onM1, 20)), describe(events(onM4, 20)));
                // published through the log: applied on m4 before it was ready, on m3 a heartbeat later at most
                String m4Line = Long.toHexString(m4.id()) + ", started, m4, " + m4.peerUrl() + ", http://" + e4 + ", false";
                await().atMost(PATIENCE).until(() -> memberList(c.endpoint(2)).contains(m4Line));

                // four voters: a quorum is three, so with one original member down the newcomer's vote counts
                int leader = awaitLeader(c);
                c.kill(leader);
                int survivor = (leader + 1) % 3;
                KVGrpc.KVBlockingStub afterKill = KVGrpc.newBlockingStub(clients.channel(c.endpoint(survivor)));
                await().atMost(PATIENCE).ignoreExceptions().until(() -> afterKill.put(put("k20", "after kill")) != null);
                c.startMember(leader);

                // a new peer URL, then a restart of the member on it: it catches up where it stopped
                String newPeerUrl = "http://127.0.0.1:" + VigilCluster.freePort();
                Etcdctl.Result update = Etcdctl.run(c.endpoint(survivor), null, "member", "update",
                        Long.toHexString(m4.id()), "--peer-urls=" + newPeerUrl);
                assertEquals(0, update.exitCode(), update.stderr());
                assertTrue(memberList(c.endpoint(survivor)).contains(", m4, " + newPeerUrl + ", "));
                m4.process().close();
                // a quorum of the four needs the restarted member, which may still be catching up:
                // a client retries a put that timed out meanwhile, as after the kill above
                await().atMost(PATIENCE).ignoreExceptions().until(() -> afterKill.put(put("k21", "while m4 was down")) != null);
                String initial = c.peerUrl(0).replace("http", "m1=http") + "," + c.peerUrl(1).replace("http", "m2=http")
                        + "," + c.peerUrl(2).replace("http", "m3=http") + ",m4=" + newPeerUrl;
                try (VigilProcess again = AddedMember.startJoined(dir, "m4", initial, newPeerUrl)) {
                    await().atMost(PATIENCE).until(() -> count(again.endpoint(), "k") == 22);

                    // removing a member stops it; it may not come back
                    long m2 = idOf(c.endpoint(1));
                    Etcdctl.Result removed = Etcdctl.run(c.endpoint(0), null, "member", "remove", Long.toHexString(m2));
                    assertEquals(0, removed.exitCode(), removed.stderr());
                    await().atMost(PATIENCE).until(() -> !c.member(1).isAlive());
                    assertTrue(c.member(1).output().stream().anyMatch(l -> l.contains("permanently removed")),
                            String.join("\n", c.member(1).output()));
                    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> c.startMember(1));
                    assertTrue(refused.getMessage().contains("the member has been permanently removed from the cluster"),
                            refused.getMessage());
                    KVGrpc.newBlockingStub(clients.channel(again.endpoint())).put(put("k22", "three voters left"));
                    await().atMost(PATIENCE).until(() -> count(c.endpoint(2), "k") == 23);
                    assertEquals(3, memberList(again.endpoint()).lines().count());

                    // removed while it was down: its peers refuse it, and it stops when it comes back
                    long m3 = idOf(c.endpoint(2));
                    c.stop(2);
                    assertEquals(0, Etcdctl.run(again.endpoint(), null, "member", "remove", Long.toHexString(m3)).exitCode());
                    c.startMember(2);
                    await().atMost(PATIENCE).until(() -> !c.member(2).isAlive());
                    assertTrue(c.member(2).output().stream().anyMatch(l -> l.contains("permanently removed")),
                            String.join("\n", c.member(2).output()));
                    KVGrpc.newBlockingStub(clients.channel(again.endpoint())).put(put("k23", "two voters left"));
                }
            } finally {
                m4.process().close();
            }
        }
    }

    @Test
    void learnersServeReadsAndWatchesRefuseTheRestAndArePromotedOnceInSync() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            int leader = awaitLeader(c);
            int follower = (leader + 1) % 3;
            KVGrpc.newBlockingStub(clients.channel(c.endpoint(0))).put(put("k0", "before"));
            // more than one learner: etcd allows one, Vigil any number (watch fan-out)
            AddedMember l4 = add(c.endpoint(0), "l4", true);
            AddedMember l5 = add(c.endpoint(1), "l5", true);
            try {
                String e4 = l4.process().endpoint();
                var watchOnLearner = clients.watch(l5.process().endpoint(), "k");
                KVGrpc.newBlockingStub(clients.channel(c.endpoint(2))).put(put("k1", "after"));
                assertEquals("k0@2 k1@" + events(watchOnLearner, 2).get(1).getKv().getModRevision() + " ",
                        describe(events(clients.watch(e4, "k"), 2)));
                Etcdctl.Result read = Etcdctl.run(e4, null, "get", "k1", "--consistency=s", "--print-value-only");
                assertEquals("after", read.stdout().trim(), read.stderr());
                assertEquals("etcdserver: rpc not supported for learner", grpcFailure(e4, "linearizable"));
                assertEquals("etcdserver: rpc not supported for learner", grpcFailure(e4, "put"));
                Etcdctl.Result status = Etcdctl.run(e4, null, "endpoint", "status", "-w", "json");
                assertTrue(status.stdout().contains("\"isLearner\":true"), status.stdout());
                String l4Line = Long.toHexString(l4.id()) + ", started, l4, " + l4.peerUrl() + ", http://" + e4 + ", true";
                await().atMost(PATIENCE).until(() -> memberList(c.endpoint(2)).contains(l4Line));

                // etcd's refusals
                assertEquals("Error: etcdserver: can only promote a learner member", failure(Etcdctl.run(c.endpoint(0),
                        null, "member", "promote", Long.toHexString(idOf(c.endpoint(1))))));
                assertEquals("Error: etcdserver: member not found", failure(Etcdctl.run(c.endpoint(0), null,
                        "member", "promote", "1234")));
                assertEquals("Error: etcdserver: member not found", failure(Etcdctl.run(c.endpoint(0), null,
                        "member", "remove", "1234")));
                assertEquals("Error: etcdserver: Peer URLs already exists", failure(Etcdctl.run(c.endpoint(0), null,
                        "member", "add", "again", "--peer-urls=" + l4.peerUrl())));
                String neverStarted = "http://127.0.0.1:" + VigilCluster.freePort();
                Etcdctl.Result added = Etcdctl.run(c.endpoint(0), null, "member", "add", "l6", "--learner",
                        "--peer-urls=" + neverStarted);
                Matcher l6 = ADDED.matcher(added.stdout());
                assertTrue(l6.find(), added.stdout() + added.stderr());
                assertEquals("Error: etcdserver: can only promote a learner member which is in sync with leader",
                        failure(Etcdctl.run(c.endpoint(follower), null, "member", "promote", l6.group(1))));
                assertEquals(0, Etcdctl.run(c.endpoint(0), null, "member", "remove", l6.group(1)).exitCode());

                // promoted through a follower (carried to the leader), the learner votes and takes writes
                Etcdctl.Result promoted = Etcdctl.run(c.endpoint(follower), null, "member", "promote",
                        Long.toHexString(l4.id()));
                assertEquals(0, promoted.exitCode(), promoted.stderr());
                assertTrue(promoted.stdout().matches("(?s)Member +" + Long.toHexString(l4.id()) + " promoted in cluster.*"),
                        promoted.stdout());
                await().atMost(PATIENCE).ignoreExceptions().until(() ->
                        KVGrpc.newBlockingStub(clients.channel(e4)).put(put("k2", "through the promoted")) != null);
                assertTrue(memberList(e4).contains(Long.toHexString(l4.id()) + ", started, l4, " + l4.peerUrl()
                        + ", http://" + e4 + ", false"));
                await().atMost(PATIENCE).until(() -> count(l5.process().endpoint(), "k") == 3);
            } finally {
                l4.process().close();
                l5.process().close();
            }
        }
    }

    /** The status a learner at {@code endpoint} gives a linearizable read or a put. */
    private String grpcFailure(String endpoint, String what) {
        KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(endpoint));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> {
            if (what.equals("put")) {
                kv.put(put("k9", "no"));
            } else {
                kv.range(prefix("k", false));
            }
        });
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        return e.getStatus().getDescription();
    }

    /** The id of the member serving {@code endpoint}, from etcdctl's endpoint status. */
    private static long idOf(String endpoint) {
        Etcdctl.Result r = Etcdctl.run(endpoint, null, "endpoint", "status", "-w", "json");
        Matcher m = MEMBER_ID.matcher(r.stdout());
        assertTrue(m.find(), r.stdout() + r.stderr());
        return Long.parseUnsignedLong(m.group(1));
    }
}
