package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantResponse;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeResponse;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.Event;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Grant, attach, detach, revoke and expiry on a real store, with a fake monotonic clock. */
class LeaseTest {
    /** A clock that moves only when told to; starts far from 0 to catch sign mistakes. */
    static final class FakeClock implements MonotonicClock {
        long now = Long.MAX_VALUE - TimeUnit.SECONDS.toNanos(100);

        @Override
        public long nanoTime() {
            return now;
        }

        void advanceSeconds(double s) {
            now += (long) (s * 1e9);
        }
    }

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();
    private RevLog log;
    private long index;

    @BeforeEach
    void open() {
        log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(16L << 20).syncOnCommit(false).clock(clock));
        index = log.appliedIndex();
    }

    @AfterEach
    void close() {
        log.close();
    }

    @Test
    void grantAnswersIdAndTtlWithoutARevision() {
        ApplyResult r = apply(grant(7, 10));
        LeaseGrantResponse resp = (LeaseGrantResponse) r.response();
        assertEquals(7, resp.getID());
        assertEquals(10, resp.getTTL());
        assertEquals(1, resp.getHeader().getRevision());
        assertEquals(1, log.currentRevision());
        assertEquals(List.of(), r.events());
        assertEquals(10, log.lessor().timeToLive(7, false).orElseThrow().remainingSeconds());
    }

    @Test
    void grantRefusals() {
        apply(grant(7, 10));
        assertEquals(RevLogException.Code.LEASE_EXISTS, apply(grant(7, 20)).error().code());
        assertEquals(RevLogException.Code.LEASE_TTL_TOO_LARGE, apply(grant(8, Lessor.MAX_TTL_SECONDS + 1)).error().code());
        assertEquals(RevLogException.Code.LEASE_NOT_FOUND, apply(grant(0, 10)).error().code());
        assertNull(apply(grant(9, Lessor.MAX_TTL_SECONDS)).error());
        assertEquals(Lessor.MAX_TTL_SECONDS, log.lessor().timeToLive(9, false).orElseThrow().remainingSeconds());
    }

    @Test
    void putWithUnknownLeaseIsRefusedAndChangesNothing() {
        ApplyResult r = apply(InternalRequest.newBuilder().setPut(put("a", "1", 5)).build());
        assertEquals(RevLogException.Code.LEASE_NOT_FOUND, r.error().code());
        assertEquals(1, log.currentRevision());
    }

    @Test
    void putAttachesOverwriteAndDeleteDetach() {
        apply(grant(1, 10));
        apply(grant(2, 10));
        apply(InternalRequest.newBuilder().setPut(put("a", "1", 1)).build());
        apply(InternalRequest.newBuilder().setPut(put("b", "1", 1)).build());
        apply(InternalRequest.newBuilder().setPut(put("c", "1", 1)).build());
        apply(InternalRequest.newBuilder().setPut(put("d", "1", 1)).build());
        assertEquals(List.of("a", "b", "c", "d"), keys(1));
        // overwrite without a lease detaches; with another lease moves
        apply(InternalRequest.newBuilder().setPut(put("a", "2", 0)).build());
        apply(InternalRequest.newBuilder().setPut(put("b", "2", 2)).build());
        // ignore_lease keeps the lease
        apply(InternalRequest.newBuilder().setPut(PutRequest.newBuilder().setKey(bytes("c")).setValue(bytes("2"))
                .setIgnoreLease(true)).build());
        // delete detaches
        apply(InternalRequest.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(bytes("d"))).build());
        assertEquals(List.of("c"), keys(1));
        assertEquals(List.of("b"), keys(2));
        assertEquals(1, log.range(RangeRequest.newBuilder().setKey(bytes("c")).build()).getKvs(0).getLease());
    }

    @Test
    void revokeDeletesEveryAttachedKeyInOneRevisionInKeyOrder() {
        apply(grant(1, 10));
        apply(InternalRequest.newBuilder().setPut(put("z", "1", 1)).build());
        apply(InternalRequest.newBuilder().setPut(put("m", "1", 1)).build());
        apply(InternalRequest.newBuilder().setPut(put("other", "1", 0)).build());
        long before = log.currentRevision();
        io.vigil.proto.mvccpb.KeyValue m = log.range(RangeRequest.newBuilder().setKey(bytes("m")).build()).getKvs(0);
        io.vigil.proto.mvccpb.KeyValue z = log.range(RangeRequest.newBuilder().setKey(bytes("z")).build()).getKvs(0);
        ApplyResult r = apply(revoke(1));
        LeaseRevokeResponse resp = (LeaseRevokeResponse) r.response();
        assertEquals(before + 1, resp.getHeader().getRevision());
        assertEquals(before + 1, log.currentRevision());
        // DeleteRange's events: a tombstone each, with the key as it was (its lease included)
        assertEquals(List.of(
                Event.newBuilder().setType(Event.EventType.DELETE).setKv(
                        io.vigil.proto.mvccpb.KeyValue.newBuilder().setKey(bytes("m")).setModRevision(before + 1))
                        .setPrevKv(m).build(),
                Event.newBuilder().setType(Event.EventType.DELETE).setKv(
                        io.vigil.proto.mvccpb.KeyValue.newBuilder().setKey(bytes("z")).setModRevision(before + 1))
                        .setPrevKv(z).build()),
                r.events());
        assertEquals(1, m.getLease());
        assertEquals(1, log.range(RangeRequest.newBuilder().setKey(bytes("a")).setRangeEnd(bytes("zz")).build()).getCount());
        assertTrue(log.lessor().timeToLive(1, false).isEmpty());
        assertEquals(RevLogException.Code.LEASE_NOT_FOUND, apply(revoke(1)).error().code());
        // a put with the revoked lease is now refused
        assertEquals(RevLogException.Code.LEASE_NOT_FOUND,
                apply(InternalRequest.newBuilder().setPut(put("m", "1", 1)).build()).error().code());
    }

    @Test
    void revokeOfALeaseWithoutKeysMakesNoRevision() {
        apply(grant(1, 10));
        ApplyResult r = apply(revoke(1));
        assertEquals(1, ((LeaseRevokeResponse) r.response()).getHeader().getRevision());
        assertEquals(1, log.currentRevision());
        assertEquals(List.of(), r.events());
    }

    @Test
    void txnComparesOnLeaseAndPutsWithOne() {
        apply(grant(1, 10));
        apply(InternalRequest.newBuilder().setPut(put("a", "1", 1)).build());
        TxnRequest t = TxnRequest.newBuilder()
                .addCompare(Compare.newBuilder().setKey(bytes("a")).setTarget(Compare.CompareTarget.LEASE)
                        .setResult(Compare.CompareResult.EQUAL).setLease(1))
                .addSuccess(RequestOp.newBuilder().setRequestPut(put("b", "1", 1)))
                .build();
        TxnResponse resp = (TxnResponse) apply(InternalRequest.newBuilder().setTxn(t).build()).response();
        assertTrue(resp.getSucceeded());
        assertEquals(List.of("a", "b"), keys(1));
        TxnRequest unknown = TxnRequest.newBuilder()
                .addSuccess(RequestOp.newBuilder().setRequestPut(put("c", "1", 99)))
                .build();
        assertEquals(RevLogException.Code.LEASE_NOT_FOUND,
                apply(InternalRequest.newBuilder().setTxn(unknown).build()).error().code());
    }

    @Test
    void keepAliveRenewsUntilTheDeadlinePassesThenNeverAgain() {
        apply(grant(1, 10));
        clock.advanceSeconds(9);
        assertEquals(1, log.lessor().timeToLive(1, false).orElseThrow().remainingSeconds());
        assertEquals(10, log.lessor().renew(1));
        assertEquals(10, log.lessor().timeToLive(1, false).orElseThrow().remainingSeconds());
        clock.advanceSeconds(10);
        // expired, not yet revoked: listed, TTL <= 0, keep-alive answers 0
        assertEquals(0, log.lessor().renew(1));
        assertEquals(0, log.lessor().timeToLive(1, false).orElseThrow().remainingSeconds());
        clock.advanceSeconds(1.5);
        assertEquals(-1, log.lessor().timeToLive(1, false).orElseThrow().remainingSeconds());
        assertEquals(List.of(1L), log.lessor().leases());
        assertEquals(0, log.lessor().renew(77), "unknown lease");
    }

    @Test
    void claimExpiredHandsOutEachExpiredLeaseOnceSoonestFirstAndRetriesUnclaimed() {
        apply(grant(1, 30));
        apply(grant(2, 10));
        apply(grant(3, 20));
        assertEquals(List.of(2L, 3L, 1L), log.lessor().leases());
        assertEquals(List.of(), log.lessor().claimExpired(10));
        clock.advanceSeconds(25);
        assertEquals(List.of(2L), log.lessor().claimExpired(1));
        assertEquals(List.of(3L), log.lessor().claimExpired(10));
        assertEquals(List.of(), log.lessor().claimExpired(10));
        assertEquals(0, log.lessor().renew(2), "a claimed lease is not renewed");
        log.lessor().unclaim(3);
        assertEquals(List.of(), log.lessor().claimExpired(10), "retried only after a while");
        clock.advanceSeconds(Lessor.RETRY_NANOS / 1e9);
        assertEquals(List.of(3L), log.lessor().claimExpired(10));
        // a renewed lease's old queue item is skipped
        assertEquals(30, log.lessor().renew(1));
        clock.advanceSeconds(6);
        assertEquals(List.of(), log.lessor().claimExpired(10));
    }

    @Test
    void leasesAndAttachmentsSurviveARestartWithTheirWholeTtl() {
        apply(grant(1, 10));
        apply(grant(2, 100));
        apply(InternalRequest.newBuilder().setPut(put("a", "1", 1)).build());
        apply(InternalRequest.newBuilder().setPut(put("b", "1", 1)).build());
        apply(InternalRequest.newBuilder().setPut(put("c", "1", 2)).build());
        apply(InternalRequest.newBuilder().setPut(put("b", "2", 0)).build());
        apply(InternalRequest.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(bytes("c"))).build());
        apply(InternalRequest.newBuilder().setPut(put("c", "3", 2)).build());
        clock.advanceSeconds(9);
        log.close();
        clock.advanceSeconds(60);
        log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(16L << 20).syncOnCommit(false).clock(clock));
        assertEquals(List.of("a"), keys(1));
        assertEquals(List.of("c"), keys(2));
        assertEquals(10, log.lessor().timeToLive(1, false).orElseThrow().remainingSeconds(), "extended, not shortened");
        assertEquals(List.of(), log.lessor().claimExpired(10));
        clock.advanceSeconds(10);
        assertEquals(List.of(1L), log.lessor().claimExpired(10));
        ApplyResult r = apply(revoke(1));
        assertEquals(1, r.events().size());
        log.close();
        log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(16L << 20).syncOnCommit(false).clock(clock));
        assertTrue(log.lessor().timeToLive(1, false).isEmpty());
        assertEquals(List.of(2L), log.lessor().leases());
    }

    private List<String> keys(long lease) {
        return log.lessor().timeToLive(lease, true).orElseThrow().keys().stream().map(ByteString::toStringUtf8).toList();
    }

    private ApplyResult apply(InternalRequest req) {
        List<ApplyResult> r = log.apply(List.of(new LogEntry(++index, req)));
        assertEquals(1, r.size());
        return r.get(0);
    }

    static InternalRequest grant(long id, long ttl) {
        return InternalRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(id).setTTL(ttl)).build();
    }

    static InternalRequest revoke(long id) {
        return InternalRequest.newBuilder().setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(id)).build();
    }

    static PutRequest put(String key, String value, long lease) {
        return PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).setLease(lease).build();
    }

    static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }
}
