package io.vigil.server;

import com.google.protobuf.Message;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.CompactionResponse;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeResponse;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.RequestChecks;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * etcd's KV service. Reads are served from this member's revision log: a serializable read at
 * once, a linearizable one (etcd's default) once this member has applied what the leader had
 * committed when the read came ({@link ReplicatedLog#linearizableRead}). Writes are checked as etcd
 * checks them, wrapped in an {@link InternalRequest}, and proposed (the proposer refuses one
 * larger than the request limit); the response is sent once the proposal is applied and durable.
 * Two {@link TestFaults} break this on purpose when switched on: stale-linearizable-read and
 * ack-before-sync.
 */
final class KvService extends KVGrpc.KVImplBase {
    private final RevLog revLog;
    private final Proposer proposer;
    private final Supplier<CompletableFuture<Void>> linearizableRead;
    private final BooleanSupplier isLeader;
    private final ResponseHeaders headers;
    private final int maxTxnOps;
    private final TestFaults faults;
    private final Quota quota;
    /** ack-before-sync only: the revision the last put was acknowledged at. */
    private final AtomicLong predictedRevision = new AtomicLong();

    /**
     * @param linearizableRead completes once a read of this member's store is linearizable
     *                         ({@link ReplicatedLog#linearizableRead})
     * @param isLeader whether this member leads now
     */
    KvService(RevLog revLog, Proposer proposer, Supplier<CompletableFuture<Void>> linearizableRead,
              BooleanSupplier isLeader, ResponseHeaders headers, int maxTxnOps,
              TestFaults faults, Quota quota) {
        this.revLog = revLog;
        this.proposer = proposer;
        this.linearizableRead = linearizableRead;
        this.isLeader = isLeader;
        this.headers = headers;
        this.maxTxnOps = maxTxnOps;
        this.faults = faults;
        this.quota = quota;
    }

    @Override
    public void range(RangeRequest request, StreamObserver<RangeResponse> out) {
        try {
            RequestChecks.checkRange(request);
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        Caller caller = AuthCalls.current(revLog.auth());
        Supplier<RangeResponse> range = () -> stamp(caller.checkedRead(
                h -> caller.checkRange(h, request.getKey(), request.getRangeEnd()), () -> revLog.range(request)));
        if (request.getSerializable() || staleLinearizableRead()) {
            read(range, out);
        } else {
            afterReadIndex(() -> read(range, out), out);
        }
    }

    /**
     * stale-linearizable-read (a {@link TestFaults} fault, for the robustness harness): a member
     * that is not the leader skips the ReadIndex and answers a linearizable Range from what it has
     * applied, as if serializable; it may be any amount behind (an isolated follower, for as long
     * as it is cut off). Read-only txns keep their ReadIndex.
     */
    private boolean staleLinearizableRead() {
        return faults.isOn(TestFaults.Fault.STALE_LINEARIZABLE_READ) && !isLeader.getAsBoolean();
    }

    /** Answers with a read of the store, stamped with this member's header. */
    private static <R extends Message> void read(java.util.function.Supplier<R> read, StreamObserver<R> out) {
        R resp;
        try {
            resp = read.get();
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        out.onNext(resp);
        out.onCompleted();
    }

    /** Runs {@code read} once it is linearizable here, or answers the failure. */
    private void afterReadIndex(Runnable read, StreamObserver<?> out) {
        linearizableRead.get().whenComplete((v, failure) -> {
            if (failure != null) {
                out.onError(EtcdErrors.toStatus(failure));
            } else {
                read.run();
            }
        });
    }

    private RangeResponse stamp(RangeResponse r) {
        return r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build();
    }

    private TxnResponse stamp(TxnResponse r) {
        return r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build();
    }

    @Override
    public void put(PutRequest request, StreamObserver<PutResponse> out) {
        InternalRequest internal = InternalRequest.newBuilder().setPut(request).build();
        if (!quota.admits(internal, out)) {
            return;
        }
        if (faults.isOn(TestFaults.Fault.ACK_BEFORE_SYNC)) {
            ackBeforeSync(checkAndPropose(() -> RequestChecks.checkPut(request), internal, out), out);
            return;
        }
        write(() -> RequestChecks.checkPut(request), internal, out,
                (PutResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    /**
     * ack-before-sync (a {@link TestFaults} fault, for the robustness harness): a put is answered
     * as soon as it is proposed, before any member's WAL has it, before it is committed or applied,
     * whatever becomes of it. The revision is predicted: one past the newer of this member's head
     * and its last prediction, which is the revision the put gets while this member's puts are
     * the only writes and all succeed. prev_kv is never filled. A put the cluster then loses (this
     * member killed before the entry reached a majority's WAL, a proposal dropped or timed out, a
     * refusal at apply) stays acknowledged.
     */
    private void ackBeforeSync(CompletableFuture<ApplyResult> proposal, StreamObserver<PutResponse> out) {
        if (proposal == null) {
            return; // refused before it was proposed, and answered so
        }
        if (proposal.isCompletedExceptionally()) {
            Replies.whenApplied(proposal, out, r -> r); // refused when proposed (too large, too many): answered so
            return;
        }
        long revision = predictedRevision.updateAndGet(last -> Math.max(last, revLog.currentRevision()) + 1);
        out.onNext(PutResponse.newBuilder().setHeader(headers.at(revision)).build());
        out.onCompleted();
    }

    @Override
    public void deleteRange(DeleteRangeRequest request, StreamObserver<DeleteRangeResponse> out) {
        write(() -> RequestChecks.checkDeleteRange(request), InternalRequest.newBuilder().setDeleteRange(request).build(), out,
                (DeleteRangeResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    @Override
    public void txn(TxnRequest request, StreamObserver<TxnResponse> out) {
        InternalRequest internal = InternalRequest.newBuilder().setTxn(request).build();
        if (!quota.admits(internal, out)) {
            return;
        }
        try {
            RequestChecks.checkTxn(request, maxTxnOps);
            if (RequestChecks.isReadOnly(request)) {
                // nothing to order against other writes: evaluate at the head, off the log; it
                // is linearizable unless every range in it asks to be serializable (etcd's rule)
                Caller caller = AuthCalls.current(revLog.auth());
                Supplier<TxnResponse> txn = () -> stamp(caller.checkedRead(h -> caller.checkTxn(h, request),
                        () -> revLog.readOnlyTxn(request)));
                if (isSerializable(request)) {
                    read(txn, out);
                } else {
                    afterReadIndex(() -> read(txn, out), out);
                }
                return;
            }
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        write(() -> { }, internal, out,
                (TxnResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    @Override
    public void compact(CompactionRequest request, StreamObserver<CompactionResponse> out) {
        write(() -> { }, InternalRequest.newBuilder().setCompaction(request).build(), out,
                (CompactionResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    /** etcd's isTxnSerializable: every op of both branches is a serializable range. */
    private static boolean isSerializable(TxnRequest txn) {
        for (var ops : List.of(txn.getSuccessList(), txn.getFailureList())) {
            for (var op : ops) {
                if (!op.hasRequestRange() || !op.getRequestRange().getSerializable()) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Runs etcd's checks, then proposes the write and answers with its applied result, stamped by
     * {@code stamp}.
     */
    private <R extends Message> void write(Runnable check, InternalRequest request, StreamObserver<R> out,
                                           Function<R, R> stamp) {
        CompletableFuture<ApplyResult> proposal = checkAndPropose(check, request, out);
        if (proposal != null) {
            Replies.whenApplied(proposal, out, stamp);
        }
    }

    /**
     * Runs etcd's checks and proposes the write with its caller, whose permissions the applier
     * checks; null when refused (and answered so).
     */
    private CompletableFuture<ApplyResult> checkAndPropose(Runnable check, InternalRequest unsigned, StreamObserver<?> out) {
        InternalRequest request;
        try {
            check.run();
            request = unsigned.toBuilder().setHeader(AuthCalls.current(revLog.auth()).header()).build();
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return null;
        }
        return proposer.propose(request);
    }
}
