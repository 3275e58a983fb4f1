package io.vigil.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.testkit.LocalServer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Managed keep-alive against Vigil and a real etcd: a lease outlives its TTL while kept alive,
 * through a server crash and restart; its loss is told at once when it is revoked, and when the
 * server stays away past its TTL (jetcd #965, #1383: keep-alives that stopped silently).
 */
class LeaseTest {
    static final List<String> SERVERS = Servers.NAMES;

    @TempDir
    Path tmp;

    /** Counts renewals and remembers the one loss. */
    static final class Kept implements LeaseListener {
        final AtomicInteger renewals = new AtomicInteger();
        final AtomicReference<String> lost = new AtomicReference<>();

        @Override
        public void onRenewed(long leaseId, long ttlSeconds) {
            renewals.incrementAndGet();
        }

        @Override
        public void onLost(long leaseId, String reason) {
            if (!lost.compareAndSet(null, reason)) {
                throw new AssertionError("told twice: " + reason);
            }
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void keptAlivePastItsTtlThenRevocationIsToldAtOnce(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server);
             VigilClient other = Servers.client(server)) {
            long lease = client.leases().grant(2);
            client.kv().put(Op.put("svc/a", "up").lease(lease));
            Kept kept = new Kept();
            KeepAlive k = client.leases().keepAlive(lease, kept);
            // a renewal every third of the TTL: six of them span two TTLs
            await().atMost(WatchTest.PATIENCE).until(() -> kept.renewals.get() >= 6);
            assertNotNull(client.kv().get("svc/a"));
            assertNull(kept.lost.get());

            other.leases().revoke(lease);
            await().atMost(WatchTest.PATIENCE).until(() -> kept.lost.get() != null);
            assertEquals("the server says it expired or was revoked", kept.lost.get());
            assertFalse(k.isAlive());
            assertNull(client.kv().get("svc/a"));
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void survivesACrashAndTellsTheLossWhenTheServerStaysAway(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server)) {
            // a TTL the restart fits in: a keep-alive that cannot renew within the TTL must report the lease lost
            long lease = client.leases().grant(10);
            client.kv().put(Op.put("svc/b", "up").lease(lease));
            Kept kept = new Kept();
            client.leases().keepAlive(lease, kept);
            await().atMost(WatchTest.PATIENCE).until(() -> kept.renewals.get() >= 1);
            server.kill();
            server.restart();
            int before = kept.renewals.get();
            await().atMost(WatchTest.PATIENCE).until(() -> kept.renewals.get() > before || kept.lost.get() != null);
            assertNull(kept.lost.get());
            assertNotNull(client.kv().get("svc/b"));

            server.kill();
            await().atMost(WatchTest.PATIENCE).until(() -> kept.lost.get() != null);
            assertTrue(kept.lost.get().startsWith("not renewed within its TTL"), kept.lost.get());
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void keepingAliveAnUnknownLeaseIsRefused(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server)) {
            VigilException e = assertThrows(VigilException.class, () -> client.leases().keepAlive(0x1234, new Kept()));
            assertEquals("etcdserver: requested lease not found", e.getMessage());
        }
    }
}
