package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.internal.InternalRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Txn cases the random tests cannot compare with etcd because etcd gets them wrong or crashes. */
class TxnEdgeCasesTest {
    @TempDir
    Path dir;

    private RevLog log;
    private long index;

    @BeforeEach
    void open() {
        log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(16L << 20).syncOnCommit(false));
        apply(InternalRequest.newBuilder().setPut(put("b", "old")).build());
    }

    @AfterEach
    void close() {
        log.close();
    }

    @Test
    void ignoreValuePutOfAKeyTheTxnDeletedIsKeyNotFoundAndChangesNothing() {
        // a from-key delete passes etcd's duplicate-key check; etcd 3.4 then crashes on the put
        TxnRequest t = TxnRequest.newBuilder()
                .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder()
                        .setKey(bytes("a")).setRangeEnd(ByteString.copyFrom(new byte[] {0}))))
                .addSuccess(RequestOp.newBuilder().setRequestPut(
                        PutRequest.newBuilder().setKey(bytes("b")).setIgnoreValue(true)))
                .build();
        RequestChecks.checkTxn(t, RequestChecks.MAX_TXN_OPS_DEFAULT);
        ApplyResult r = apply(InternalRequest.newBuilder().setTxn(t).build());
        assertEquals(RevLogException.Code.KEY_NOT_FOUND, r.error().code());
        assertEquals(2, log.currentRevision());
        assertEquals("old", log.range(RangeRequest.newBuilder().setKey(bytes("b")).build()).getKvs(0).getValue().toStringUtf8());
    }

    @Test
    void ignoreValuePutInATxnKeepsTheValue() {
        TxnRequest t = TxnRequest.newBuilder()
                .addSuccess(RequestOp.newBuilder().setRequestPut(
                        PutRequest.newBuilder().setKey(bytes("b")).setIgnoreValue(true)))
                .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(bytes("b"))))
                .build();
        ApplyResult r = apply(InternalRequest.newBuilder().setTxn(t).build());
        assertNull(r.error());
        TxnResponse resp = (TxnResponse) r.response();
        assertEquals("old", resp.getResponses(1).getResponseRange().getKvs(0).getValue().toStringUtf8());
        assertEquals(2, resp.getResponses(1).getResponseRange().getKvs(0).getVersion());
    }

    @Test
    void aLeaseThatDoesNotExistIsRefused() {
        ApplyResult r = apply(InternalRequest.newBuilder().setPut(put("c", "v").toBuilder().setLease(42)).build());
        assertEquals(RevLogException.Code.LEASE_NOT_FOUND, r.error().code());
        assertEquals(2, log.currentRevision());
    }

    @Test
    void duplicateKeysFollowEtcdsIntervalRules() {
        RequestOp putB = RequestOp.newBuilder().setRequestPut(put("b", "x")).build();
        RequestOp delAtoC = RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder()
                .setKey(bytes("a")).setRangeEnd(bytes("c"))).build();
        RequestOp nestedPutB = RequestOp.newBuilder().setRequestTxn(TxnRequest.newBuilder()
                .addSuccess(putB).addFailure(putB)).build();
        assertDuplicate(TxnRequest.newBuilder().addSuccess(putB).addSuccess(putB).build());
        assertDuplicate(TxnRequest.newBuilder().addSuccess(delAtoC).addSuccess(putB).build());
        assertDuplicate(TxnRequest.newBuilder().addSuccess(putB).addSuccess(nestedPutB).build());
        // then/else of one nested txn may put the same key: only one of them runs
        RequestChecks.checkTxn(TxnRequest.newBuilder().addSuccess(nestedPutB).build(), RequestChecks.MAX_TXN_OPS_DEFAULT);
        // success and failure branches are checked separately
        RequestChecks.checkTxn(TxnRequest.newBuilder().addSuccess(putB).addFailure(putB).build(), RequestChecks.MAX_TXN_OPS_DEFAULT);
    }

    private static void assertDuplicate(TxnRequest t) {
        RevLogException e = assertThrows(RevLogException.class, () -> RequestChecks.checkTxn(t, RequestChecks.MAX_TXN_OPS_DEFAULT));
        assertEquals(RevLogException.Code.DUPLICATE_KEY, e.code());
    }

    private ApplyResult apply(InternalRequest req) {
        List<ApplyResult> results = log.apply(List.of(new LogEntry(++index, req)));
        return results.get(0);
    }

    private static PutRequest put(String key, String value) {
        return PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build();
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }
}
