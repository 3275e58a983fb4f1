package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseLeasesRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jetcd keeps 2000 short leases alive from one client; jetcd sends every lease's keep-alives over
 * the one LeaseKeepAlive stream of its connection. Every lease gets keep-alive answers for longer
 * than its TTL and is still alive with its key afterwards; once the keep-alives stop, all 2000
 * expire and their keys are deleted.
 */
class JetcdLeaseKeepAliveTest {
    private static final int LEASES = 2000;
    private static final long TTL = 6;

    @TempDir
    Path tmp;

    @Test
    void twoThousandLeasesStayAliveOverOneStreamThenExpire() throws Exception {
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("data"));
             Client client = Client.builder().endpoints("http://" + vigil.endpoint()).build()) {
            Lease lease = client.getLeaseClient();
            KV kv = client.getKVClient();
            ConcurrentHashMap<Long, AtomicInteger> answers = new ConcurrentHashMap<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<CloseableClient> keepAlives = java.util.Collections.synchronizedList(new ArrayList<>());
            StreamObserver<LeaseKeepAliveResponse> observer = new StreamObserver<>() {
                @Override
                public void onNext(LeaseKeepAliveResponse r) {
                    if (r.getTTL() == TTL) {
                        answers.get(r.getID()).incrementAndGet();
                    } else {
                        failure.compareAndSet(null, new AssertionError("keep-alive of " + r.getID() + " answered TTL " + r.getTTL()));
                    }
                }

                @Override
                public void onError(Throwable t) {
                    failure.compareAndSet(null, t);
                }

                @Override
                public void onCompleted() {
                }
            };
            // each lease is kept alive from its grant's answer on: how long granting 2000 takes on
            // a busy machine must not decide whether the first ones outlive their TTL
            List<CompletableFuture<Long>> grants = new ArrayList<>();
            for (int i = 0; i < LEASES; i++) {
                grants.add(lease.grant(TTL).thenApply(g -> {
                    answers.put(g.getID(), new AtomicInteger());
                    keepAlives.add(lease.keepAlive(g.getID(), observer));
                    return g.getID();
                }));
            }
            List<Long> ids = new ArrayList<>();
            for (var g : grants) {
                ids.add(g.get(60, TimeUnit.SECONDS));
            }
            // keys are attached once every lease is kept alive
            List<CompletableFuture<?>> puts = new ArrayList<>();
            for (int i = 0; i < LEASES; i++) {
                puts.add(kv.put(key(i), key(i), PutOption.builder().withLeaseId(ids.get(i)).build()));
            }
            CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

            // jetcd renews each lease every TTL/3 s or so: 4 answers each span more than one TTL
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() ->
                    failure.get() != null || answers.values().stream().allMatch(n -> n.get() >= 4));
            assertEquals(null, failure.get());
            for (int i = 0; i < LEASES; i += 97) {
                long remaining = lease.timeToLive(ids.get(i), LeaseOption.DEFAULT).get(30, TimeUnit.SECONDS).getTTL();
                assertTrue(remaining > 0, "lease " + ids.get(i) + " is alive, remaining " + remaining);
            }
            assertEquals(LEASES, count(kv), "every key is still there");
            assertEquals(LEASES, leaseCount(vigil));

            keepAlives.forEach(CloseableClient::close);
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> count(kv) == 0);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> leaseCount(vigil) == 0);
        }
    }

    /** jetcd 0.8.5 has no LeaseLeases: ask over the raw stub. */
    private static int leaseCount(VigilProcess vigil) throws InterruptedException {
        ManagedChannel channel = CrashRecoveryTest.channel(vigil);
        try {
            return LeaseGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .leaseLeases(LeaseLeasesRequest.getDefaultInstance()).getLeasesCount();
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static long count(KV kv) throws Exception {
        return kv.get(ByteSequence.from("svc/", StandardCharsets.UTF_8),
                GetOption.builder().isPrefix(true).withCountOnly(true).build()).get(30, TimeUnit.SECONDS).getCount();
    }

    private static ByteSequence key(int i) {
        return ByteSequence.from("svc/" + i, StandardCharsets.UTF_8);
    }
}
