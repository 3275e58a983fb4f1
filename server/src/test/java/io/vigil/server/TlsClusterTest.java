package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers over TLS with peer certificate authentication, as real processes: a 3-member cluster on
 * https:// peer URLs replicates (a write on one member is read on another, so Raft's streams,
 * ReadIndex and the members' own channels run over TLS); a member added with a peer certificate
 * of the peer CA joins, one whose certificate another CA signed is refused by every peer and
 * cannot join.
 */
class TlsClusterTest {
    private static final Pattern ADDED = Pattern.compile("Member +([0-9a-f]+) added to cluster");
    private static final Pattern INITIAL_CLUSTER = Pattern.compile("ETCD_INITIAL_CLUSTER=\"([^\"]+)\"");

    @TempDir
    Path dir;

    static List<String> peerFlags(TestCerts.Ca trusted, TestCerts.Leaf cert) {
        return List.of("--peer-cert-file", cert.certFile().toString(), "--peer-key-file", cert.keyFile().toString(),
                "--peer-trusted-ca-file", trusted.certFile().toString(), "--peer-client-cert-auth");
    }

    @Test
    void aClusterReplicatesOverPeerTlsAndAMemberWithAForeignCertificateCannotJoin() throws Exception {
        TestCerts certs = new TestCerts(dir);
        TestCerts.Ca peerCa = certs.ca("peer-ca");
        TestCerts.Ca otherCa = certs.ca("other-ca");
        TestCerts.Leaf peer = certs.leaf(peerCa, "peer", false);
        TestCerts.Leaf foreign = certs.leaf(otherCa, "foreign", true);
        try (VigilCluster cluster = VigilCluster.startWithPeerTls(dir, 3, peerFlags(peerCa, peer).toArray(String[]::new))) {
            assertTrue(cluster.peerUrl(0).startsWith("https://"));
            Awaitility.await().atMost(60, TimeUnit.SECONDS).until(() -> cluster.agreedLeader() >= 0);
            Etcdctl.Result put = Etcdctl.run(cluster.endpoint(0), null, "put", "over", "tls");
            assertEquals(0, put.exitCode(), put.normalized() + cluster.logs());
            Etcdctl.Result get = Etcdctl.run(cluster.endpoint(2), null, "get", "over", "--print-value-only");
            assertEquals("tls", get.stdout().trim(), get.normalized() + cluster.logs());

            // a member whose peer certificate the peer CA did not sign: every peer refuses it
            String foreignUrl = "https://127.0.0.1:" + VigilCluster.freePort();
            String initial = addMember(cluster.endpoint(0), "m4", foreignUrl);
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> AddedMember.startJoined(dir.resolve("foreign"), "m4", initial, foreignUrl,
                            peerFlags(peerCa, foreign).toArray(String[]::new)));
            assertTrue(refused.getMessage().contains("no peer in --initial-cluster answered"), refused.getMessage());
            assertTrue(cluster.logs().contains("rejected connection from"), cluster.logs());

            // the same member with a certificate of the peer CA joins, and catches up
            try (VigilProcess m4 = AddedMember.startJoined(dir.resolve("trusted"), "m4", initial, foreignUrl,
                    peerFlags(peerCa, peer).toArray(String[]::new))) {
                Awaitility.await().atMost(60, TimeUnit.SECONDS).until(() ->
                        Etcdctl.run(m4.endpoint(), null, "get", "over", "--print-value-only", "--consistency=s")
                                .stdout().trim().equals("tls"));
            }
        }
    }

    /** {@code etcdctl member add}; returns the ETCD_INITIAL_CLUSTER it printed. */
    private static String addMember(String endpoint, String name, String peerUrl) {
        Etcdctl.Result r = Etcdctl.run(endpoint, null, "member", "add", name, "--peer-urls=" + peerUrl);
        assertEquals(0, r.exitCode(), r.normalized());
        Matcher id = ADDED.matcher(r.stdout());
        Matcher initial = INITIAL_CLUSTER.matcher(r.stdout());
        assertTrue(id.find() && initial.find(), r.stdout());
        return initial.group(1);
    }
}
