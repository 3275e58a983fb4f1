package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcdctl 3.4's lease commands against a fresh Vigil and a fresh real etcd 3.4: every command
 * must print the same thing and exit the same way. Lease IDs are random in etcd, so each server's
 * IDs are captured from its own grant output, substituted into later commands ({@code $L1} …)
 * and masked as L1, L2 … in what is compared. Remaining TTLs depend on how long etcdctl took and
 * are masked when positive; an expired lease's TTL (-1) is compared as is.
 */
class EtcdctlLeaseDifferentialTest {
    @TempDir
    Path tmp;

    private record Step(String stdin, String... args) {
        static Step of(String... args) {
            return new Step(null, args);
        }

        @Override
        public String toString() {
            return "etcdctl " + String.join(" ", args) + (stdin == null ? "" : " <<< " + stdin.replace("\n", "\\n"));
        }
    }

    private static final List<Step> SESSION = List.of(
            Step.of("lease", "list"),
            Step.of("lease", "grant", "100"),
            Step.of("lease", "grant", "200", "-w", "json"),
            Step.of("lease", "list"),
            Step.of("lease", "list", "-w", "json"),
            Step.of("put", "a", "1", "--lease=$L1", "-w", "json"),
            Step.of("put", "b", "2", "--lease=$L1"),
            Step.of("put", "c", "3", "--lease=$L2"),
            Step.of("put", "d", "4"),
            Step.of("get", "", "--prefix", "-w", "json"),
            Step.of("lease", "timetolive", "$L1", "--keys"),
            Step.of("lease", "timetolive", "$L1", "--keys", "-w", "json"),
            Step.of("lease", "timetolive", "$L2", "-w", "json"),
            // an overwrite without the lease detaches, --ignore-lease keeps it
            Step.of("put", "c", "33"),
            Step.of("lease", "timetolive", "$L2", "--keys"),
            Step.of("put", "a", "11", "--ignore-lease"),
            Step.of("get", "a", "-w", "json"),
            Step.of("put", "nolease", "x", "--ignore-lease"),
            Step.of("lease", "keep-alive", "--once", "$L1"),
            Step.of("lease", "keep-alive", "--once", "$L1", "-w", "json"),
            // txn: put with a lease; an unknown lease fails the whole txn
            new Step("value(\"d\") = \"4\"\n\nput d 44 --lease=$L2\n\nget d\n\n", "txn", "-w", "json"),
            new Step("value(\"d\") = \"44\"\n\nput e 5 --lease=1234\nput f 6\n\n\n", "txn"),
            Step.of("put", "x", "y", "--lease=1234"),
            Step.of("put", "missing", "--ignore-value", "--lease=$L1"),
            Step.of("get", "", "--prefix", "-w", "json"),
            // revoke: the lease's keys go in one revision; a second revoke is not found
            Step.of("lease", "revoke", "$L1", "-w", "json"),
            Step.of("get", "", "--prefix", "-w", "json"),
            Step.of("lease", "revoke", "$L1"),
            Step.of("lease", "timetolive", "$L1", "-w", "json"),
            Step.of("lease", "timetolive", "$L1", "--keys"),
            Step.of("lease", "keep-alive", "--once", "$L1"),
            Step.of("lease", "list"),
            // never granted
            Step.of("lease", "revoke", "1234"),
            Step.of("lease", "timetolive", "1234"),
            Step.of("lease", "keep-alive", "--once", "1234"),
            Step.of("lease", "revoke", "$L2", "-w", "json"),
            Step.of("get", "", "--prefix", "-w", "json"),
            // a revoke of a lease with no keys makes no revision
            Step.of("lease", "grant", "60"),
            Step.of("lease", "revoke", "$L3", "-w", "json"),
            Step.of("lease", "grant", "9000000001"),
            Step.of("lease", "grant", "9000000000", "-w", "json"),
            Step.of("lease", "timetolive", "$L4"),
            Step.of("lease", "list"),
            // the minimum TTL: last, because these leases expire two seconds later
            Step.of("lease", "grant", "1"),
            Step.of("lease", "grant", "0", "-w", "json"));

    /** One server's side of the session (see {@link EtcdctlSide}). */
    private static final class Side extends EtcdctlSide {
        Side(String endpoint) {
            super(endpoint);
        }

        String run(Step step) {
            return run(step.stdin(), step.args());
        }
    }

    @Test
    void leaseSessionMatchesRealEtcd() throws Exception {
        ReferenceEtcd.assumeInstalled();
        List<String> mismatches = new ArrayList<>();
        try (ReferenceEtcd etcd = ReferenceEtcd.start(tmp); VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            Side reference = new Side(etcd.endpoint());
            Side ours = new Side(vigil.endpoint());
            for (Step step : SESSION) {
                String expected = reference.run(step);
                String actual = ours.run(step);
                if (!expected.equals(actual)) {
                    mismatches.add(step + "\n--- etcd:\n" + expected + "\n--- vigil:\n" + actual);
                }
            }
            // every successful grant's ID was captured, so no step ran with a literal $L
            assertEquals(6, reference.leases.size());
            assertEquals(6, ours.leases.size());
        }
        assertEquals("", String.join("\n\n", mismatches));
    }

    /**
     * A lease with the minimum TTL and two keys expires on its own: both keys disappear, in one
     * revision, on Vigil as on etcd. Waits for the keys to vanish; asserts no duration.
     */
    @Test
    void expiryDeletesTheKeysInOneRevisionAsEtcdDoes() throws Exception {
        ReferenceEtcd.assumeInstalled();
        try (ReferenceEtcd etcd = ReferenceEtcd.start(tmp); VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            assertEquals(expire(etcd.endpoint()), expire(vigil.endpoint()));
        }
    }

    /** Returns what a user sees of the expiry: the revisions before and after, and the history. */
    private static String expire(String endpoint) {
        Side side = new Side(endpoint);
        side.run(Step.of("lease", "grant", "1"));
        String lease = Long.toHexString(side.leases.get(0));
        assertEquals(0, Etcdctl.run(endpoint, null, "put", "svc/a", "1", "--lease=" + lease).exitCode());
        assertEquals(0, Etcdctl.run(endpoint, null, "put", "svc/b", "2", "--lease=" + lease).exitCode());
        assertEquals(0, Etcdctl.run(endpoint, null, "put", "other", "3").exitCode());
        long before = revision(endpoint);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                !Etcdctl.run(endpoint, null, "get", "svc/", "--prefix", "-w", "json").stdout().contains("\"kvs\""));
        long after = revision(endpoint);
        assertEquals(before + 1, after, "the expiry made exactly one revision");
        String atBefore = Etcdctl.run(endpoint, null, "get", "", "--prefix", "--keys-only", "--rev=" + before).stdout();
        String atAfter = Etcdctl.run(endpoint, null, "get", "", "--prefix", "--keys-only", "--rev=" + after).stdout();
        assertTrue(atBefore.contains("svc/a") && atBefore.contains("svc/b"), atBefore);
        String ttl = side.run(Step.of("lease", "timetolive", lease, "-w", "json"));
        return "after " + (after - before) + " revision(s)\nat before:\n" + atBefore + "at after:\n" + atAfter + ttl;
    }

    private static long revision(String endpoint) {
        String out = Etcdctl.run(endpoint, null, "get", "probe", "-w", "json").stdout();
        Matcher m = Pattern.compile("\"revision\":(\\d+)").matcher(out);
        assertTrue(m.find(), out);
        return Long.parseLong(m.group(1));
    }
}
