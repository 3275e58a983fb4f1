package io.vigil.client;

import io.vigil.proto.etcdserverpb.DeleteRangeResponse;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.ResponseOp;
import java.util.List;

/** What one operation answered: a read, a put or a delete; alone or inside a transaction. */
public sealed interface OpResult {
    /** The store's revision when the operation was applied (a read: the revision it read at). */
    long revision();

    /**
     * A read's answer.
     *
     * @param kvs the keys found, in key order (at most the limit asked)
     * @param count how many keys are in the range (beyond the limit too)
     * @param more whether the limit cut the answer short
     */
    record Get(long revision, List<KeyValue> kvs, long count, boolean more) implements OpResult {
        static Get of(RangeResponse r) {
            return new Get(r.getHeader().getRevision(), r.getKvsList().stream().map(KeyValue::of).toList(), r.getCount(),
                    r.getMore());
        }

        /** The one key asked for, or null when it does not exist. */
        public KeyValue single() {
            return kvs.isEmpty() ? null : kvs.get(0);
        }
    }

    /** A put's answer: the revision it made, and the previous value when asked (null when none). */
    record Put(long revision, KeyValue previous) implements OpResult {
        static Put of(PutResponse r) {
            return new Put(r.getHeader().getRevision(), r.hasPrevKv() ? KeyValue.of(r.getPrevKv()) : null);
        }
    }

    /** A delete's answer: how many keys it deleted, and their values when asked. */
    record Delete(long revision, long deleted, List<KeyValue> previous) implements OpResult {
        static Delete of(DeleteRangeResponse r) {
            return new Delete(r.getHeader().getRevision(), r.getDeleted(),
                    r.getPrevKvsList().stream().map(KeyValue::of).toList());
        }
    }

    /** A nested transaction's answer. */
    record Txn(long revision, boolean succeeded, List<OpResult> results) implements OpResult {
        static Txn of(io.vigil.proto.etcdserverpb.TxnResponse r) {
            return new Txn(r.getHeader().getRevision(), r.getSucceeded(), r.getResponsesList().stream().map(OpResult::of).toList());
        }
    }

    private static OpResult of(ResponseOp op) {
        return switch (op.getResponseCase()) {
            case RESPONSE_RANGE -> Get.of(op.getResponseRange());
            case RESPONSE_PUT -> Put.of(op.getResponsePut());
            case RESPONSE_DELETE_RANGE -> Delete.of(op.getResponseDeleteRange());
            case RESPONSE_TXN -> Txn.of(op.getResponseTxn());
            case RESPONSE_NOT_SET -> throw new IllegalStateException("a transaction answered an empty operation");
        };
    }
}
