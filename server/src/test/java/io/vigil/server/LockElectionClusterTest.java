package io.vigil.server;

import static io.vigil.server.ClusterClients.PATIENCE;
import static io.vigil.server.ClusterClients.awaitLeader;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.election.LeaderResponse;
import io.etcd.jetcd.lock.LockResponse;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lock and Election on a three-member Vigil cluster, each client on its own member: the holder
 * on one follower, the waiter on another member, the observer on the third. The lock and the
 * leadership pass between members as they do on one, because every member serves them from the
 * same replicated keys.
 */
class LockElectionClusterTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsEtcdctl() {
        ReferenceEtcd.assumeInstalled(); // awaitLeader asks the members with etcdctl
    }

    @Test
    void aWaiterOnAnotherMemberGetsTheLockAndTheLeadership() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            int leader = awaitLeader(c);
            int holderAt = (leader + 1) % 3;
            int waiterAt = (leader + 2) % 3;
            try (Client holder = client(c, holderAt); Client waiter = client(c, waiterAt); Client observer = client(c, leader)) {
                long holderLease = holder.getLeaseClient().grant(600).get(60, TimeUnit.SECONDS).getID();
                long waiterLease = waiter.getLeaseClient().grant(600).get(60, TimeUnit.SECONDS).getID();

                LockResponse held = holder.getLockClient().lock(bytes("L"), holderLease).get(60, TimeUnit.SECONDS);
                CompletableFuture<LockResponse> waiting = waiter.getLockClient().lock(bytes("L"), waiterLease);
                awaitKeys(observer, "L/", 2);
                assertFalse(waiting.isDone(), "the waiter on m" + (waiterAt + 1) + " got the lock while m"
                        + (holderAt + 1) + "'s client holds it");
                holder.getLockClient().unlock(held.getKey()).get(60, TimeUnit.SECONDS);
                LockResponse got = waiting.get(60, TimeUnit.SECONDS);
                assertEquals("L/" + Long.toHexString(waiterLease), text(got.getKey()));

                List<String> observed = new CopyOnWriteArrayList<>();
                observer.getElectionClient().observe(bytes("E"), new Election.Listener() {
                    @Override
                    public void onNext(LeaderResponse r) {
                        observed.add(text(r.getKv().getValue()));
                    }

                    @Override
                    public void onError(Throwable t) {
                        observed.add("error " + t);
                    }

                    @Override
                    public void onCompleted() {
                        observed.add("completed");
                    }
                });
                LeaderKey first = holder.getElectionClient().campaign(bytes("E"), holderLease, bytes("on m" + (holderAt + 1)))
                        .get(60, TimeUnit.SECONDS).getLeader();
                var second = waiter.getElectionClient().campaign(bytes("E"), waiterLease, bytes("on m" + (waiterAt + 1)));
                awaitKeys(observer, "E/", 2);
                assertFalse(second.isDone(), "two members' campaigners lead at once");
                holder.getElectionClient().resign(first).get(60, TimeUnit.SECONDS);
                assertEquals(Long.toHexString(waiterLease),
                        text(second.get(60, TimeUnit.SECONDS).getLeader().getKey()).substring("E/".length()));
                await().atMost(PATIENCE).until(() -> observed.size() >= 2);
                assertEquals(List.of("on m" + (holderAt + 1), "on m" + (waiterAt + 1)), observed);
            }
        }
    }

    private static Client client(VigilCluster c, int member) {
        return Client.builder().endpoints("http://" + c.endpoint(member)).build();
    }

    private static void awaitKeys(Client client, String prefix, int count) {
        await().atMost(PATIENCE).until(() -> client.getKVClient()
                .get(bytes(prefix), GetOption.builder().isPrefix(true).build()).get(60, TimeUnit.SECONDS).getCount() == count);
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
