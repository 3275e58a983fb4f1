package io.vigil.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.client.recipes.Election;
import io.vigil.client.recipes.Lock;
import io.vigil.testkit.LocalServer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The lock and election recipes against Vigil and a real etcd: one holder at a time, the next in
 * line takes over on release, fencing by create revision refuses a former holder's writes (also
 * after its lease was revoked); an election's leader proclaims and resigns, and an observer hears
 * each leader and value.
 */
class LockElectionTest {
    static final List<String> SERVERS = Servers.NAMES;

    @TempDir
    Path tmp;

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void oneHolderAtATimeAndAFormerHoldersWritesAreRefused(String name) throws Exception {
        try (LocalServer server = Servers.start(name, tmp); VigilClient a = Servers.client(server);
             VigilClient b = Servers.client(server)) {
            Lock lockA = new Lock(a, "locks/job/", a.leases().grant(30));
            Lock lockB = new Lock(b, "locks/job/", b.leases().grant(30));
            long tokenA = lockA.lock(WatchTest.PATIENCE);
            assertEquals(tokenA, lockA.fencingToken());
            CompletableFuture<Long> tokenB = CompletableFuture.supplyAsync(() -> {
                try {
                    return lockB.lock(WatchTest.PATIENCE);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, threads);
            // B queues behind A: its key exists, created after A's
            await().atMost(WatchTest.PATIENCE).until(() -> a.kv().get(lockB.key()) != null);
            assertTrue(a.kv().txn().when(lockA.held()).then(Op.put("job/out", "by A")).commit().succeeded());
            assertFalse(tokenB.isDone(), "B must not hold the lock while A does");

            Compare aHeld = lockA.held();
            lockA.unlock();
            long b1 = tokenB.get(WatchTest.PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertTrue(b1 > tokenA, "fencing tokens grow");
            assertFalse(a.kv().txn().when(aHeld).then(Op.put("job/out", "late A")).commit().succeeded());
            assertEquals("by A", a.kv().get("job/out").value());

            // B's lease is revoked behind its back: its hold ends with the key, its fenced writes fail
            Compare bHeld = lockB.held();
            a.leases().revoke(leaseOf(a, lockB));
            assertFalse(b.kv().txn().when(bHeld).then(Op.put("job/out", "by B")).commit().succeeded());
            Lock lockA2 = new Lock(a, "locks/job/", a.leases().grant(30));
            assertTrue(lockA2.lock(WatchTest.PATIENCE) > b1);
            lockA2.unlock();
        }
    }

    private static long leaseOf(VigilClient client, Lock lock) {
        return client.kv().get(lock.key()).lease();
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void aLeaderProclaimsAndResignsAndObserversHearIt(String name) throws Exception {
        try (LocalServer server = Servers.start(name, tmp); VigilClient a = Servers.client(server);
             VigilClient b = Servers.client(server); VigilClient watcher = Servers.client(server)) {
            Election electionA = new Election(a, "election/", a.leases().grant(30));
            Election electionB = new Election(b, "election/", b.leases().grant(30));
            Election observer = new Election(watcher, "election/", 0);
            assertNull(observer.leader());
            List<String> heard = new CopyOnWriteArrayList<>();
            try (AutoCloseable o = observer.observe(threads, kv -> heard.add(kv == null ? null : kv.value()))) {
                long tokenA = electionA.campaign("a", WatchTest.PATIENCE);
                CompletableFuture<Long> tokenB = CompletableFuture.supplyAsync(() -> {
                    try {
                        return electionB.campaign("b", WatchTest.PATIENCE);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, threads);
                await().atMost(WatchTest.PATIENCE).until(() -> heard.contains("a"));
                electionA.proclaim("a2");
                await().atMost(WatchTest.PATIENCE).until(() -> heard.contains("a2"));
                assertEquals("a2", observer.leader().value());
                assertFalse(tokenB.isDone(), "B must not lead while A does");

                electionA.resign();
                assertTrue(tokenB.get(WatchTest.PATIENCE.toSeconds(), TimeUnit.SECONDS) > tokenA);
                assertEquals("b", observer.leader().value());
                await().atMost(WatchTest.PATIENCE).until(() -> heard.contains("b"));
                assertEquals(List.of("a", "a2", "b"), heard);
                assertTrue(b.kv().txn().when(electionB.isLeader()).then(Op.put("plan", "by b")).commit().succeeded());
            }
        }
    }
}
