package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantResponse;
import io.vigil.proto.etcdserverpb.LeaseRevokeResponse;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property test of leases: random grants, puts with and without leases (plain and in txns,
 * ignore_lease), deletes, txn compares on LEASE, keep-alives, clock advances, expiry (claim then
 * revoke, or hand back), client revokes and restarts, applied to a real store on a fake clock and
 * to a plain model. Every response, every attachment, every expiry decision and the key space must
 * agree. Each seed is printed on failure; replay one with {@code -Dvigil.revlog.seed=N}
 * ({@code -Dvigil.revlog.seeds=N} runs more).
 */
class LeaseModelTest {
    private static final int SEEDS = 40;
    private static final int STEPS = Integer.getInteger("vigil.revlog.steps", 300);
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @TempDir
    Path tmp;

    @Test
    void leasesAgreeWithModel() throws Exception {
        Seeds.forEach("lease model test", SEEDS, tmp, (seed, dir) -> new Run(seed, dir).go());
    }

    /** A lease in the model: TTL, deadline, and when the expiry loop may next take it. */
    static final class ModelLease {
        final long ttl;
        long deadline;
        long eligibleAt;
        boolean claimed;

        ModelLease(long ttl, long now) {
            this.ttl = ttl;
            this.deadline = now + ttl * SECOND;
            this.eligibleAt = deadline;
        }
    }

    final class Run {
        final Random rnd;
        final Path dir;
        final LeaseTest.FakeClock clock = new LeaseTest.FakeClock();
        final TreeMap<String, KeyValue> keys = new TreeMap<>();
        final Map<Long, ModelLease> leases = new HashMap<>();
        long revision = 1;
        RevLog log;
        long nextIndex = 1;

        Run(long seed, Path dir) {
            this.rnd = new Random(seed);
            this.dir = dir;
        }

        void go() {
            log = open();
            try {
                for (int step = 0; step < STEPS; step++) {
                    int dice = rnd.nextInt(100);
                    if (Boolean.getBoolean("vigil.lease.trace")) {
                        System.out.println("step " + step + " dice " + dice + " now " + (clock.now / SECOND) + " leases " + leases.keySet());
                    }
                    if (dice < 12) {
                        grant();
                    } else if (dice < 40) {
                        put();
                    } else if (dice < 47) {
                        delete();
                    } else if (dice < 55) {
                        txn();
                    } else if (dice < 65) {
                        keepAlive();
                    } else if (dice < 75) {
                        clock.now += rnd.nextInt(4) * SECOND + rnd.nextInt(1000) * 1_000_000L;
                    } else if (dice < 85) {
                        expire();
                    } else if (dice < 91) {
                        revoke(anyLease());
                    } else if (dice < 93) {
                        restart();
                    } else {
                        checkLeases();
                    }
                }
                checkLeases();
            } finally {
                log.close();
            }
        }

        RevLog open() {
            return RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(64L << 20).syncOnCommit(false).clock(clock));
        }

        ApplyResult apply(InternalRequest req) {
            List<ApplyResult> results = log.apply(List.of(new LogEntry(nextIndex++, req)));
            assertEquals(1, results.size());
            return results.get(0);
        }

        String key() {
            return String.valueOf((char) ('a' + rnd.nextInt(6)));
        }

        /** Mostly a lease that exists or existed, sometimes 0 or one never granted. */
        long anyLease() {
            int dice = rnd.nextInt(10);
            if (dice == 0) {
                return 0;
            }
            if (dice == 1) {
                return 1000 + rnd.nextInt(3);
            }
            return 1 + rnd.nextInt(6);
        }

        void grant() {
            long id = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(6);
            long ttl = 1 + rnd.nextInt(8);
            ApplyResult r = apply(LeaseTest.grant(id, ttl));
            if (id == 0) {
                assertEquals(RevLogException.Code.LEASE_NOT_FOUND, r.error().code());
            } else if (leases.containsKey(id)) {
                assertEquals(RevLogException.Code.LEASE_EXISTS, r.error().code());
            } else {
                assertNull(r.error());
                LeaseGrantResponse resp = (LeaseGrantResponse) r.response();
                assertEquals(id, resp.getID());
                assertEquals(ttl, resp.getTTL());
                leases.put(id, new ModelLease(ttl, clock.now));
            }
            assertEquals(revision, r.revision());
        }

        void put() {
            String k = key();
            boolean ignoreLease = rnd.nextInt(6) == 0;
            long lease = ignoreLease ? 0 : anyLease();
            PutRequest p = PutRequest.newBuilder().setKey(bytes(k)).setValue(bytes("v" + revision))
                    .setLease(lease).setIgnoreLease(ignoreLease).build();
            ApplyResult r = apply(InternalRequest.newBuilder().setPut(p).build());
            KeyValue prev = keys.get(k);
            // a plain put checks the lease before the key
            if (lease != 0 && !leases.containsKey(lease)) {
                assertEquals(RevLogException.Code.LEASE_NOT_FOUND, r.error().code());
            } else if (ignoreLease && prev == null) {
                assertEquals(RevLogException.Code.KEY_NOT_FOUND, r.error().code());
            } else {
                assertNull(r.error());
                modelPut(p, prev);
                // the event, with prev_kv as a watcher that asked gets it, carries the key as it
                // was before, unless this put created it
                Event.Builder e = Event.newBuilder().setType(Event.EventType.PUT).setKv(keys.get(k));
                if (prev != null) {
                    e.setPrevKv(prev);
                }
                assertEquals(List.of(e.build()), log.withPrevKv(r.events()));
            }
            assertEquals(revision, r.revision());
        }

        void modelPut(PutRequest p, KeyValue prev) {
            revision++;
            String k = p.getKey().toStringUtf8();
            keys.put(k, KeyValue.newBuilder().setKey(p.getKey()).setValue(p.getValue())
                    .setCreateRevision(prev == null ? revision : prev.getCreateRevision())
                    .setModRevision(revision).setVersion(prev == null ? 1 : prev.getVersion() + 1)
                    .setLease(p.getIgnoreLease() ? prev.getLease() : p.getLease()).build());
        }

        void delete() {
            String k = key();
            String end = rnd.nextBoolean() ? "" : key();
            ApplyResult r = apply(InternalRequest.newBuilder().setDeleteRange(
                    DeleteRangeRequest.newBuilder().setKey(bytes(k)).setRangeEnd(bytes(end))).build());
            List<String> gone = new ArrayList<>(end.isEmpty()
                    ? (keys.containsKey(k) ? List.of(k) : List.of())
                    : (k.compareTo(end) < 0 ? keys.subMap(k, end).keySet() : Set.of()));
            if (!gone.isEmpty()) {
                revision++;
                gone.forEach(keys::remove);
            }
            assertEquals(gone.size(), r.events().size());
            assertEquals(revision, r.revision());
        }

        /** compare lease(k1) == L; success: put k2 with lease L2; failure: nothing. */
        void txn() {
            String k1 = key();
            String k2 = key();
            long compareLease = anyLease();
            long putLease = anyLease();
            TxnRequest t = TxnRequest.newBuilder()
                    .addCompare(Compare.newBuilder().setKey(bytes(k1)).setTarget(Compare.CompareTarget.LEASE)
                            .setResult(Compare.CompareResult.EQUAL).setLease(compareLease))
                    .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bytes(k2))
                            .setValue(bytes("t" + revision)).setLease(putLease)))
                    .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(bytes(k1))))
                    .build();
            ApplyResult r = apply(InternalRequest.newBuilder().setTxn(t).build());
            KeyValue cur = keys.get(k1);
            boolean succeeded = (cur == null ? 0 : cur.getLease()) == compareLease;
            if (succeeded && putLease != 0 && !leases.containsKey(putLease)) {
                assertEquals(RevLogException.Code.LEASE_NOT_FOUND, r.error().code());
            } else {
                assertNull(r.error());
                assertEquals(succeeded, ((TxnResponse) r.response()).getSucceeded());
                if (succeeded) {
                    modelPut(t.getSuccess(0).getRequestPut(), keys.get(k2));
                }
            }
            assertEquals(revision, r.revision());
        }

        void keepAlive() {
            long id = anyLease();
            ModelLease l = leases.get(id);
            long expected;
            if (l == null || l.claimed || l.deadline - clock.now <= 0) {
                expected = 0;
            } else {
                l.deadline = clock.now + l.ttl * SECOND;
                l.eligibleAt = l.deadline;
                expected = l.ttl;
            }
            assertEquals(expected, log.lessor().renew(id), "keep-alive of " + id);
        }

        /** What the expiry loop does: claim a bounded batch, then revoke each or hand it back. */
        void expire() {
            int max = 1 + rnd.nextInt(3);
            List<Long> claimed = log.lessor().claimExpired(max);
            List<Map.Entry<Long, ModelLease>> eligible = leases.entrySet().stream()
                    .filter(e -> !e.getValue().claimed && e.getValue().deadline - clock.now <= 0
                            && e.getValue().eligibleAt - clock.now <= 0)
                    .sorted(Comparator.comparingLong(e -> e.getValue().eligibleAt - clock.now))
                    .toList();
            assertEquals(Math.min(max, eligible.size()), claimed.size(), () -> "claimed " + claimed + " of " + eligible
                    + " at " + clock.now + " model " + describe());
            Set<Long> eligibleIds = new HashSet<>();
            eligible.forEach(e -> eligibleIds.add(e.getKey()));
            assertTrue(eligibleIds.containsAll(claimed), "claimed " + claimed + " of " + eligibleIds);
            // soonest first: nothing left behind was due before something taken
            long latestTaken = claimed.stream().mapToLong(id -> leases.get(id).eligibleAt - clock.now).max().orElse(Long.MIN_VALUE);
            for (Map.Entry<Long, ModelLease> e : eligible) {
                if (!claimed.contains(e.getKey())) {
                    assertTrue(e.getValue().eligibleAt - clock.now >= latestTaken, "claimed a later lease first");
                }
            }
            for (long id : claimed) {
                leases.get(id).claimed = true;
                assertEquals(0, log.lessor().renew(id), "a claimed lease is not renewed");
                if (rnd.nextInt(4) == 0) {
                    log.lessor().unclaim(id);
                    ModelLease l = leases.get(id);
                    l.claimed = false;
                    l.eligibleAt = clock.now + Lessor.RETRY_NANOS;
                } else {
                    revoke(id);
                }
            }
        }

        void revoke(long id) {
            ApplyResult r = apply(LeaseTest.revoke(id));
            if (!leases.containsKey(id)) {
                assertEquals(RevLogException.Code.LEASE_NOT_FOUND, r.error().code());
                assertEquals(revision, r.revision());
                return;
            }
            leases.remove(id);
            List<String> attached = attachedTo(id);
            List<Event> expected = new ArrayList<>();
            if (!attached.isEmpty()) {
                revision++;
                for (String k : attached) {
                    KeyValue gone = keys.remove(k);
                    expected.add(Event.newBuilder().setType(Event.EventType.DELETE).setKv(
                            KeyValue.newBuilder().setKey(bytes(k)).setModRevision(revision)).setPrevKv(gone).build());
                }
            }
            assertEquals(expected, r.events());
            assertEquals(revision, ((LeaseRevokeResponse) r.response()).getHeader().getRevision());
            assertEquals(revision, r.revision());
        }

        String describe() {
            StringBuilder sb = new StringBuilder();
            leases.forEach((id, l) -> sb.append(id).append(": ttl ").append(l.ttl).append(" deadline ")
                    .append(l.deadline).append(" eligibleAt ").append(l.eligibleAt).append(" claimed ")
                    .append(l.claimed).append("; "));
            return sb.toString();
        }

        List<String> attachedTo(long id) {
            List<String> out = new ArrayList<>();
            for (KeyValue kv : keys.values()) {
                if (kv.getLease() == id) {
                    out.add(kv.getKey().toStringUtf8());
                }
            }
            return out;
        }

        void restart() {
            log.close();
            clock.now += rnd.nextInt(20) * SECOND;
            log = open();
            for (ModelLease l : leases.values()) {
                l.deadline = clock.now + l.ttl * SECOND;
                l.eligibleAt = l.deadline;
                l.claimed = false;
            }
        }

        void checkLeases() {
            assertEquals(new TreeSet<>(leases.keySet()), new TreeSet<>(log.lessor().leases()));
            for (Map.Entry<Long, ModelLease> e : leases.entrySet()) {
                Lessor.TimeToLive ttl = log.lessor().timeToLive(e.getKey(), true).orElseThrow();
                assertEquals(e.getValue().ttl, ttl.grantedTtl());
                assertEquals((e.getValue().deadline - clock.now) / SECOND, ttl.remainingSeconds());
                assertEquals(attachedTo(e.getKey()), ttl.keys().stream().map(ByteString::toStringUtf8).toList());
            }
            assertEquals(new ArrayList<>(keys.values()), log.range(RangeRequest.newBuilder()
                    .setKey(ByteString.copyFrom(new byte[] {0})).setRangeEnd(ByteString.copyFrom(new byte[] {0}))
                    .build()).getKvsList());
            assertEquals(revision, log.currentRevision());
        }
    }

    static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }
}
