package io.vigil.client;

import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.TxnRequest;

/**
 * A transaction, read the way it runs: when every condition holds, then these operations, or
 * else those; atomically, at one revision.
 *
 * <pre>{@code
 * OpResult.Txn r = client.kv().txn()
 *         .when(Compare.modRevision("config").equalTo(seen))
 *         .then(Op.put("config", next))
 *         .orElse(Op.get("config"))
 *         .commit();
 * }</pre>
 *
 * A transaction that writes is sent once and never retried (see {@link VigilException#outcomeUnknown()});
 * one that only reads may be retried on another member.
 */
public final class Txn {
    private final Calls calls;
    private final TxnRequest.Builder request = TxnRequest.newBuilder();

    Txn(Calls calls) {
        this.calls = calls;
    }

    /** Conditions that must all hold for {@link #then} to run. */
    public Txn when(Compare... conditions) {
        for (Compare c : conditions) {
            request.addCompare(c.proto());
        }
        return this;
    }

    /** What runs when every condition holds. */
    public Txn then(Op... ops) {
        for (Op o : ops) {
            request.addSuccess(o.request());
        }
        return this;
    }

    /** What runs otherwise. */
    public Txn orElse(Op... ops) {
        for (Op o : ops) {
            request.addFailure(o.request());
        }
        return this;
    }

    public OpResult.Txn commit() {
        TxnRequest r = request.build();
        boolean readOnly = r.getSuccessList().stream().allMatch(o -> o.hasRequestRange())
                && r.getFailureList().stream().allMatch(o -> o.hasRequestRange());
        if (readOnly) {
            return OpResult.Txn.of(calls.read((channel, deadline) -> KVGrpc.newBlockingStub(channel)
                    .withDeadline(deadline).txn(r)));
        }
        return OpResult.Txn.of(calls.write((channel, deadline) -> KVGrpc.newBlockingStub(channel)
                .withDeadline(deadline).txn(r)));
    }
}
