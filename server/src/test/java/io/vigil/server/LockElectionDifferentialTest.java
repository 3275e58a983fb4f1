package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Lock;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.election.LeaderResponse;
import io.etcd.jetcd.lock.LockResponse;
import io.etcd.jetcd.options.GetOption;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.v3electionpb.CampaignRequest;
import io.vigil.proto.v3electionpb.ElectionGrpc;
import io.vigil.proto.v3lockpb.LockGrpc;
import io.vigil.proto.v3lockpb.LockRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jetcd's Lock and Election clients (and raw gRPC, for cancelling a waiting call) against a real
 * etcd 3.4 and against Vigil, one session body for both. The session asserts what must hold on
 * either server (a second locker waits while the first holds; a lease that expires or is revoked
 * releases its lock; a cancelled waiter's key is deleted) and records what each call answered,
 * leases written as their order of grant; the two records must be the same, revisions included.
 */
class LockElectionDifferentialTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    @Test
    void lockAndElectionMatchRealEtcd() throws Exception {
        BothServers.Results<List<String>> results = BothServers.run(tmp, LockElectionDifferentialTest::session);
        results.etcd().forEach(System.out::println);
        assertEquals(String.join("\n", results.etcd()), String.join("\n", results.vigil()));
    }

    private static List<String> session(String endpoint) throws Exception {
        Record out = new Record();
        try (Client client = Client.builder().endpoints("http://" + endpoint).build()) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
            try {
                locks(client, out);
                leaseEnds(client, out);
                cancelledWaiters(client, channel, out);
                election(client, out);
            } finally {
                channel.shutdownNow();
            }
        }
        return out.lines;
    }

    /** Holding, waiting behind the holder, locking again with the same lease, unknown lease. */
    private static void locks(Client client, Record out) throws Exception {
        Lock lock = client.getLockClient();
        long l1 = out.grant(client.getLeaseClient(), 600);
        long l2 = out.grant(client.getLeaseClient(), 600);
        LockResponse first = get(lock.lock(bytes("L"), l1));
        out.add("lock L lease1", first.getHeader().getRevision(), first.getKey());
        out.add("lock L lease1 again", get(lock.lock(bytes("L"), l1)).getKey());
        CompletableFuture<LockResponse> second = lock.lock(bytes("L"), l2);
        awaitKeys(client.getKVClient(), "L/", 2);
        assertFalse(second.isDone(), "a second locker got L while the first holds it");
        out.add("unlock L lease1", get(lock.unlock(first.getKey())).getHeader().getRevision());
        LockResponse got = get(second);
        out.add("lock L lease2 after the unlock", got.getHeader().getRevision(), got.getKey());
        out.add("unlock L lease2", get(lock.unlock(got.getKey())).getHeader().getRevision());
        out.add("unlock a key that is not there", get(lock.unlock(bytes("L/none"))).getHeader().getRevision());
        out.add("lock with an unknown lease", failure(lock.lock(bytes("L"), 12345)));
    }

    /** A holder whose lease expires (no keep-alive) or is revoked releases the lock to the waiter. */
    private static void leaseEnds(Client client, Record out) throws Exception {
        Lock lock = client.getLockClient();
        Lease lease = client.getLeaseClient();
        long shortLived = out.grant(lease, 2);
        long waiter = out.grant(lease, 600);
        out.add("lock X short-lived lease", get(lock.lock(bytes("X"), shortLived)).getKey());
        CompletableFuture<LockResponse> next = lock.lock(bytes("X"), waiter);
        // the holder's lease expires in about two seconds; whether the waiter's put came before
        // (it waited) or after (it held at once) depends on timing, so revisions are left out
        LockResponse got = get(next);
        out.add("lock X waiter after the holder's lease expired", got.getKey());
        out.add("keys under X/", keys(client.getKVClient(), "X/").stream().map(k -> k.replaceAll("@.*", "")).toList());

        long revoked = out.grant(lease, 600);
        long waiter2 = out.grant(lease, 600);
        out.add("lock R", get(lock.lock(bytes("R"), revoked)).getKey());
        CompletableFuture<LockResponse> after = lock.lock(bytes("R"), waiter2);
        awaitKeys(client.getKVClient(), "R/", 2);
        assertFalse(after.isDone(), "a second locker got R while the first holds it");
        get(lease.revoke(revoked));
        got = get(after);
        out.add("lock R waiter after the holder's lease was revoked", got.getHeader().getRevision(), got.getKey());
    }

    /** A waiting Lock or Campaign whose client cancels it deletes its key; the holder keeps its own. */
    private static void cancelledWaiters(Client client, ManagedChannel channel, Record out) throws Exception {
        long holder = out.grant(client.getLeaseClient(), 600);
        long waiter = out.grant(client.getLeaseClient(), 600);
        get(client.getLockClient().lock(bytes("C"), holder));
        Context.CancellableContext call = Context.current().withCancellation();
        call.run(() -> LockGrpc.newStub(channel).lock(LockRequest.newBuilder().setName(ByteString.copyFromUtf8("C"))
                .setLease(waiter).build(), ignore()));
        awaitKeys(client.getKVClient(), "C/", 2);
        call.cancel(null);
        awaitKeys(client.getKVClient(), "C/", 1);
        out.add("keys under C/ after the waiting Lock was cancelled", keys(client.getKVClient(), "C/"));

        get(client.getElectionClient().campaign(bytes("CE"), holder, bytes("h")));
        Context.CancellableContext campaign = Context.current().withCancellation();
        campaign.run(() -> ElectionGrpc.newStub(channel).campaign(CampaignRequest.newBuilder()
                .setName(ByteString.copyFromUtf8("CE")).setLease(waiter).setValue(ByteString.copyFromUtf8("w")).build(),
                ignore()));
        awaitKeys(client.getKVClient(), "CE/", 2);
        campaign.cancel(null);
        awaitKeys(client.getKVClient(), "CE/", 1);
        out.add("keys under CE/ after the waiting Campaign was cancelled", keys(client.getKVClient(), "CE/"));
    }

    /** Campaign, Leader, Proclaim, Resign, and Observe following the leaders. */
    private static void election(Client client, Record out) throws Exception {
        Election election = client.getElectionClient();
        long l1 = out.grant(client.getLeaseClient(), 600);
        long l2 = out.grant(client.getLeaseClient(), 600);
        out.add("leader of E before any campaign", failure(election.leader(bytes("E"))));
        List<String> observed = new CopyOnWriteArrayList<>();
        election.observe(bytes("E"), new Election.Listener() {
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
        CampaignResponse won = get(election.campaign(bytes("E"), l1, bytes("v1")));
        LeaderKey first = won.getLeader();
        out.add("campaign E lease1", won.getHeader().getRevision(), describe(first));
        await().atMost(PATIENCE).until(() -> observed.contains("v1"));
        LeaderResponse leader = get(election.leader(bytes("E")));
        out.add("leader of E", leader.getKv().getKey(), text(leader.getKv().getValue()), leader.getKv().getCreateRevision());
        CompletableFuture<CampaignResponse> second = election.campaign(bytes("E"), l2, bytes("v2"));
        awaitKeys(client.getKVClient(), "E/", 2);
        assertFalse(second.isDone(), "a second campaigner leads while the first does");
        out.add("proclaim v1b", get(election.proclaim(first, bytes("v1b"))).getHeader().getRevision());
        out.add("leader of E after proclaim", text(get(election.leader(bytes("E"))).getKv().getValue()));
        out.add("resign lease1", get(election.resign(first)).getHeader().getRevision());
        CampaignResponse next = get(second);
        out.add("campaign E lease2 after the resign", next.getHeader().getRevision(), describe(next.getLeader()));
        out.add("proclaim with the resigned leader key", failure(election.proclaim(first, bytes("late"))));
        await().atMost(PATIENCE).until(() -> observed.contains("v2"));
        out.add("observed", observed);
        out.add("resign lease2", get(election.resign(next.getLeader())).getHeader().getRevision());
        out.add("leader of E after every resign", failure(election.leader(bytes("E"))));
        out.add("campaign with an unknown lease", failure(election.campaign(bytes("E"), 12345, bytes("x"))));
    }

    // ---- helpers ----

    /** What a session saw, one line per call; lease IDs are written as lease1, lease2, ... in grant order. */
    private static final class Record {
        final List<String> lines = new ArrayList<>();
        private final Map<String, String> leaseNames = new LinkedHashMap<>();
        private int granted;

        long grant(Lease lease, long ttlSeconds) throws Exception {
            long id = get(lease.grant(ttlSeconds)).getID();
            String name = "lease" + ++granted;
            leaseNames.put(Long.toHexString(id), name);
            leaseNames.put(Long.toString(id), name);
            return id;
        }

        void add(String what, Object... answers) {
            StringBuilder sb = new StringBuilder(what).append(" ->");
            for (Object a : answers) {
                sb.append(' ').append(a instanceof ByteSequence b ? text(b) : String.valueOf(a));
            }
            String line = sb.toString();
            for (Map.Entry<String, String> e : leaseNames.entrySet()) {
                line = line.replace(e.getKey(), e.getValue());
            }
            lines.add(line);
        }
    }

    private static String describe(LeaderKey k) {
        return "{name " + text(k.getName()) + ", key " + text(k.getKey()) + ", rev " + k.getRevision()
                + ", lease " + k.getLease() + "}";
    }

    /** How a call failed: jetcd's exception type, and etcd's code and message when it carries them. */
    private static String failure(CompletableFuture<?> call) throws InterruptedException {
        try {
            call.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            return "no error";
        } catch (ExecutionException e) {
            Throwable t = e.getCause();
            if (t instanceof EtcdException etcd) {
                return "EtcdException " + etcd.getErrorCode() + ": " + etcd.getMessage();
            }
            if (t instanceof StatusRuntimeException s) {
                return s.getStatus().getCode() + ": " + s.getStatus().getDescription();
            }
            return t.getClass().getSimpleName() + ": " + t.getMessage();
        } catch (java.util.concurrent.TimeoutException e) {
            return "no answer";
        }
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    private static void awaitKeys(KV kv, String prefix, int count) {
        await().atMost(PATIENCE).until(() -> keys(kv, prefix).size() == count);
    }

    private static List<String> keys(KV kv, String prefix) throws Exception {
        List<String> out = new ArrayList<>();
        get(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build())).getKvs()
                .forEach(k -> out.add(text(k.getKey()) + "@" + k.getCreateRevision()));
        return out;
    }

    private static <T> StreamObserver<T> ignore() {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        };
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
