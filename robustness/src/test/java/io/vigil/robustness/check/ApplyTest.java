package io.vigil.robustness.check;

import static io.vigil.robustness.check.Histories.b;
import static io.vigil.robustness.check.Histories.kv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.history.Request;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The model against etcd's applier semantics, on a fixed state at revision 10. */
class ApplyTest {
    private static final KeyValue A = kv("a", "1", 3, 5, 2).toBuilder().setLease(7).build();
    private static final KeyValue B = kv("b", "2", 4, 4, 1);
    private static final KeyValue C = kv("c/x", "3", 6, 9, 4);

    private static final StateView STATE = new StateView() {
        private final TreeMap<ByteString, KeyValue> keys = new TreeMap<>(Keys.ORDER);

        {
            for (KeyValue kv : List.of(A, B, C)) {
                keys.put(kv.getKey(), kv);
            }
        }

        @Override
        public KeyValue get(ByteString key) {
            return keys.get(key);
        }

        @Override
        public List<KeyValue> range(ByteString key, ByteString rangeEnd) {
            List<KeyValue> out = new ArrayList<>();
            for (KeyValue kv : keys.values()) {
                if (Keys.inRange(kv.getKey(), key, rangeEnd)) {
                    out.add(kv);
                }
            }
            return out;
        }
    };

    static Apply.Outcome apply(Request r) {
        return Apply.apply(STATE, 11, r);
    }

    static Compare compare(String key, Compare.CompareTarget target, Compare.CompareResult result, Object operand) {
        Compare.Builder c = Compare.newBuilder().setKey(b(key)).setTarget(target).setResult(result);
        switch (target) {
            case VALUE -> c.setValue(b((String) operand));
            case VERSION -> c.setVersion((Long) operand);
            case CREATE -> c.setCreateRevision((Long) operand);
            case MOD -> c.setModRevision((Long) operand);
            case LEASE -> c.setLease((Long) operand);
            default -> throw new IllegalArgumentException();
        }
        return c.build();
    }

    @Test
    void aPutOfAnExistingKeyKeepsItsCreateRevisionAndCountsItsVersion() {
        Apply.Outcome o = apply(Request.newBuilder().setPut(PutRequest.newBuilder().setKey(b("a")).setValue(b("9"))
                .setPrevKv(true)).build());
        assertEquals(List.of(Events.put(kv("a", "9", 3, 11, 3))), o.events());
        assertEquals(A, o.response().getPut().getPrevKv());
    }

    @Test
    void ignoreValueAndLeaseKeepTheOldOnesAndFailOnAnAbsentKey() {
        Apply.Outcome o = apply(Request.newBuilder().setPut(PutRequest.newBuilder().setKey(b("a")).setIgnoreValue(true)
                .setIgnoreLease(true)).build());
        assertEquals(kv("a", "1", 3, 11, 3).toBuilder().setLease(7).build(), o.events().get(0).getKv());
        Apply.Outcome absent = apply(Request.newBuilder().setPut(PutRequest.newBuilder().setKey(b("z")).setIgnoreValue(true))
                .build());
        assertEquals("etcdserver: key not found", absent.error());
        assertFalse(absent.changed());
    }

    @Test
    void aRangeDeleteDeletesEveryKeyFromKeyWithNulRangeEnd() {
        Apply.Outcome o = apply(Request.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("b"))
                .setRangeEnd(b("\0")).setPrevKv(true)).build());
        assertEquals(List.of(Events.delete(b("b"), 11), Events.delete(b("c/x"), 11)), o.events());
        assertEquals(2, o.response().getDeleteRange().getDeleted());
        assertEquals(List.of(B, C), o.response().getDeleteRange().getPrevKvsList());
    }

    @Test
    void deletingAnAbsentKeyChangesNothing() {
        Apply.Outcome o = apply(Request.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("zz"))).build());
        assertFalse(o.changed());
        assertEquals(0, o.response().getDeleteRange().getDeleted());
    }

    @Test
    void comparesFollowEtcd() {
        assertTrue(Apply.holds(STATE, compare("a", Compare.CompareTarget.VALUE, Compare.CompareResult.EQUAL, "1")));
        assertTrue(Apply.holds(STATE, compare("a", Compare.CompareTarget.VALUE, Compare.CompareResult.LESS, "2")));
        assertTrue(Apply.holds(STATE, compare("a", Compare.CompareTarget.VERSION, Compare.CompareResult.GREATER, 1L)));
        assertTrue(Apply.holds(STATE, compare("a", Compare.CompareTarget.CREATE, Compare.CompareResult.EQUAL, 3L)));
        assertTrue(Apply.holds(STATE, compare("a", Compare.CompareTarget.MOD, Compare.CompareResult.NOT_EQUAL, 3L)));
        assertTrue(Apply.holds(STATE, compare("a", Compare.CompareTarget.LEASE, Compare.CompareResult.EQUAL, 7L)));
        // an absent key: a value compare fails whatever it asks; the others compare with zeros
        assertFalse(Apply.holds(STATE, compare("z", Compare.CompareTarget.VALUE, Compare.CompareResult.NOT_EQUAL, "x")));
        assertFalse(Apply.holds(STATE, compare("z", Compare.CompareTarget.VALUE, Compare.CompareResult.EQUAL, "")));
        assertTrue(Apply.holds(STATE, compare("z", Compare.CompareTarget.VERSION, Compare.CompareResult.EQUAL, 0L)));
        assertTrue(Apply.holds(STATE, compare("z", Compare.CompareTarget.MOD, Compare.CompareResult.LESS, 1L)));
        // a range compare holds when every key in it does
        Compare allVersions = compare("a", Compare.CompareTarget.VERSION, Compare.CompareResult.GREATER, 0L).toBuilder()
                .setRangeEnd(b("\0")).build();
        assertTrue(Apply.holds(STATE, allVersions));
        Compare notAll = compare("a", Compare.CompareTarget.VERSION, Compare.CompareResult.GREATER, 1L).toBuilder()
                .setRangeEnd(b("c")).build();
        assertFalse(Apply.holds(STATE, notAll));
    }

    @Test
    void aTxnSeesItsOwnEarlierOpsAndNestedTxnsApply() {
        TxnRequest nested = TxnRequest.newBuilder()
                .addCompare(compare("b", Compare.CompareTarget.VERSION, Compare.CompareResult.EQUAL, 0L))
                .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b("b")).setValue(b("new"))))
                .build();
        TxnRequest txn = TxnRequest.newBuilder()
                .addCompare(compare("a", Compare.CompareTarget.VALUE, Compare.CompareResult.EQUAL, "1"))
                .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(b("b"))))
                .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("\0"))))
                .addSuccess(RequestOp.newBuilder().setRequestTxn(nested))
                .build();
        Apply.Outcome o = apply(Request.newBuilder().setTxn(txn).build());
        assertTrue(o.response().getTxn().getSucceeded());
        assertEquals(List.of(A, C), o.response().getTxn().getResponses(1).getResponseRange().getKvsList());
        assertTrue(o.response().getTxn().getResponses(2).getResponseTxn().getSucceeded());
        assertEquals(List.of(Events.delete(b("b"), 11), Events.put(kv("b", "new", 11, 11, 1))), o.events());
    }

    @Test
    void rangesWithLimitCountOnlyAndKeysOnly() {
        RangeRequest all = RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("\0")).build();
        var limited = Apply.range(STATE, all.toBuilder().setLimit(2).build());
        assertEquals(List.of(A, B), limited.getKvsList());
        assertTrue(limited.getMore());
        assertEquals(3, limited.getCount());
        var counted = Apply.range(STATE, all.toBuilder().setCountOnly(true).build());
        assertEquals(0, counted.getKvsCount());
        assertEquals(3, counted.getCount());
        var keysOnly = Apply.range(STATE, all.toBuilder().setKeysOnly(true).setKey(b("c/")).setRangeEnd(b("c0")).build());
        assertEquals(List.of(C.toBuilder().clearValue().build()), keysOnly.getKvsList());
        assertThrows(Apply.Unsupported.class,
                () -> Apply.range(STATE, all.toBuilder().setSortTarget(RangeRequest.SortTarget.MOD)
                        .setSortOrder(RangeRequest.SortOrder.ASCEND).build()));
        assertThrows(Apply.Unsupported.class, () -> Apply.range(STATE, all.toBuilder().setMinModRevision(2).build()));
    }

    @Test
    void aDeleteEventCarriesTheKeyAndTheRevisionOnly() {
        Event full = Event.newBuilder().setType(Event.EventType.DELETE).setKv(kv("a", "", 0, 11, 0)).setPrevKv(A).build();
        assertEquals(Events.delete(b("a"), 11), Events.comparable(full));
    }
}
