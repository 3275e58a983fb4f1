package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.internal.InternalRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HashKV and Hash as the corruption check relies on them: stores that applied the same log agree
 * (however they applied it: committed, pending in the open transaction, or copied as a snapshot),
 * and one record of difference shows.
 */
class HashTest {
    @TempDir
    Path dir;

    private final List<RevLog> open = new ArrayList<>();

    @AfterEach
    void close() {
        open.forEach(RevLog::close);
    }

    private RevLog store(String name) {
        RevLog log = RevLog.open(new RevLogConfig().dataDir(dir.resolve(name)).mapSizeBytes(16L << 20).syncOnCommit(false));
        open.add(log);
        return log;
    }

    /** Puts, an overwrite, a delete, a txn, a lease and a compaction at revision 4: revisions 2..8. */
    private static List<InternalRequest> history() {
        return List.of(
                put("a", "1"),
                put("b", "1"),
                put("a", "2"),
                InternalRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(7).setTTL(60)).build(),
                InternalRequest.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(bytes("b"))).build(),
                InternalRequest.newBuilder().setCompaction(CompactionRequest.newBuilder().setRevision(4)).build(),
                InternalRequest.newBuilder().setTxn(TxnRequest.newBuilder()
                        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
                                .setKey(bytes("c")).setValue(bytes("1")).setLease(7)))
                        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
                                .setKey(bytes("d")).setValue(bytes("1"))))).build(),
                put("a", "3"),
                put("e", "1"));
    }

    private static List<LogEntry> entries(List<InternalRequest> requests) {
        List<LogEntry> out = new ArrayList<>();
        for (InternalRequest r : requests) {
            out.add(new LogEntry(out.size() + 1, r));
        }
        return out;
    }

    @Test
    void storesThatAppliedTheSameLogAgreeHoweverTheyHoldIt() {
        List<LogEntry> log = entries(history());
        RevLog committed = store("committed");
        committed.apply(log);
        RevLog pending = store("pending");
        // through the compaction committed, the rest still in the open transaction (read from the
        // pending records: revision 6 is a txn of two puts, sub revisions 0 and 1)
        pending.applyDeferred(log.subList(0, 6));
        pending.commit();
        pending.applyDeferred(log.subList(6, log.size()));
        RevLog copy = store("from-copy-source");
        copy.apply(log);
        copy.copyTo(dir.resolve("copy"));
        RevLog fromCopy = store("copy");

        assertEquals(8, committed.currentRevision());
        assertEquals(4, committed.compactRevision());
        for (RevLog other : List.of(pending, fromCopy)) {
            assertEquals(8, other.currentRevision());
            for (long rev = 5; rev <= 8; rev++) {
                assertEquals(committed.hashKv(rev), other.hashKv(rev), "hashKv(" + rev + ")");
            }
            assertEquals(committed.hashKv(0), other.hashKv(0));
        }
        assertEquals(new KvHash(committed.hashKv(8).hash(), 8, 4, 8), committed.hashKv(0));
        pending.commit();
        assertEquals(committed.hash(), pending.hash());
        assertEquals(committed.hash(), fromCopy.hash());
        assertEquals(8, committed.hash().revision());
    }

    @Test
    void aStoreThatWentFurtherAgreesAtTheRevisionsBoth() {
        List<LogEntry> log = entries(history());
        RevLog shorter = store("shorter");
        shorter.apply(log.subList(0, 7));
        RevLog longer = store("longer");
        longer.apply(log);
        assertEquals(6, shorter.currentRevision());
        for (long rev = 5; rev <= 6; rev++) {
            assertEquals(shorter.hashKv(rev).hash(), longer.hashKv(rev).hash(), "hashKv(" + rev + ")");
        }
        assertNotEquals(shorter.hashKv(6).hash(), longer.hashKv(7).hash());
        // the header names the current revision, the hash the one asked for
        assertEquals(8, longer.hashKv(6).revision());
        assertEquals(6, longer.hashKv(6).hashRevision());
        assertNotEquals(shorter.hash(), longer.hash());
    }

    @Test
    void oneDivergentWriteChangesTheHashFromItsRevisionOn() {
        List<InternalRequest> diverged = new ArrayList<>(history());
        diverged.set(7, put("a", "X")); // revision 7: a=3 in the one, a=X in the other
        RevLog good = store("good");
        good.apply(entries(history()));
        RevLog bad = store("bad");
        bad.apply(entries(diverged));
        assertEquals(good.hashKv(6), bad.hashKv(6));
        assertNotEquals(good.hashKv(7).hash(), bad.hashKv(7).hash());
        assertNotEquals(good.hashKv(8).hash(), bad.hashKv(8).hash());
        assertNotEquals(good.hash().hash(), bad.hash().hash());
    }

    @Test
    void aLeaseOnlyOneStoreHasChangesTheWholeHashNotHashKv() {
        RevLog one = store("one");
        RevLog two = store("two");
        one.apply(entries(List.of(put("a", "1"))));
        two.apply(entries(List.of(put("a", "1"),
                InternalRequest.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(9).setTTL(60)).build())));
        assertEquals(one.hashKv(0), two.hashKv(0));
        assertNotEquals(one.hash().hash(), two.hash().hash());
    }

    @Test
    void compactedAndFutureRevisionsAreRefusedAsEtcdRefusesThem() {
        RevLog log = store("log");
        log.apply(entries(history()));
        RevLogException future = assertThrows(RevLogException.class, () -> log.hashKv(9));
        assertEquals(RevLogException.Code.FUTURE_REVISION, future.code());
        // etcd 3.4: a revision at the compacted one is compacted too
        for (long rev : new long[] {1, 4}) {
            RevLogException compacted = assertThrows(RevLogException.class, () -> log.hashKv(rev));
            assertEquals(RevLogException.Code.COMPACTED, compacted.code());
        }
        assertEquals(5, log.hashKv(5).hashRevision());
    }

    @Test
    void anEmptyStoreHashesAtRevisionOne() {
        RevLog a = store("a");
        RevLog b = store("b");
        assertEquals(new KvHash(a.hashKv(0).hash(), 1, -1, 1), a.hashKv(0));
        assertEquals(a.hashKv(0), b.hashKv(1));
        assertEquals(a.hash(), b.hash());
    }

    private static InternalRequest put(String key, String value) {
        return InternalRequest.newBuilder().setPut(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build();
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }
}
