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
import io.vigil.revlog.RequestChecks;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogException;
import java.util.function.Function;

/**
 * etcd's KV service. Reads are served from the local revision log (on one member both
 * serializable and linearizable reads see every acknowledged write). Writes are checked as etcd
 * checks them, wrapped in an {@link InternalRequest}, refused if larger than the request limit,
 * and proposed; the response is sent once the proposal is applied and durable.
 */
final class KvService extends KVGrpc.KVImplBase {
    private final RevLog revLog;
    private final Proposer proposer;
    private final ResponseHeaders headers;
    private final int maxRequestBytes;
    private final int maxTxnOps;

    KvService(RevLog revLog, Proposer proposer, ResponseHeaders headers, int maxRequestBytes, int maxTxnOps) {
        this.revLog = revLog;
        this.proposer = proposer;
        this.headers = headers;
        this.maxRequestBytes = maxRequestBytes;
        this.maxTxnOps = maxTxnOps;
    }

    @Override
    public void range(RangeRequest request, StreamObserver<RangeResponse> out) {
        RangeResponse resp;
        try {
            RequestChecks.checkRange(request);
            resp = revLog.range(request);
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        out.onNext(resp.toBuilder().setHeader(headers.at(resp.getHeader().getRevision())).build());
        out.onCompleted();
    }

    @Override
    public void put(PutRequest request, StreamObserver<PutResponse> out) {
        write(() -> RequestChecks.checkPut(request), InternalRequest.newBuilder().setPut(request).build(), out,
                (PutResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    @Override
    public void deleteRange(DeleteRangeRequest request, StreamObserver<DeleteRangeResponse> out) {
        write(() -> RequestChecks.checkDeleteRange(request), InternalRequest.newBuilder().setDeleteRange(request).build(), out,
                (DeleteRangeResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    @Override
    public void txn(TxnRequest request, StreamObserver<TxnResponse> out) {
        try {
            RequestChecks.checkTxn(request, maxTxnOps);
            if (RequestChecks.isReadOnly(request)) {
                // nothing to order against other writes: evaluate at the head, off the log
                TxnResponse resp = revLog.readOnlyTxn(request);
                out.onNext(resp.toBuilder().setHeader(headers.at(resp.getHeader().getRevision())).build());
                out.onCompleted();
                return;
            }
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        write(() -> { }, InternalRequest.newBuilder().setTxn(request).build(), out,
                (TxnResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    @Override
    public void compact(CompactionRequest request, StreamObserver<CompactionResponse> out) {
        write(() -> { }, InternalRequest.newBuilder().setCompaction(request).build(), out,
                (CompactionResponse r) -> r.toBuilder().setHeader(headers.at(r.getHeader().getRevision())).build());
    }

    /**
     * Runs etcd's checks, then proposes the write and answers with its applied result, stamped by
     * {@code stamp}.
     */
    private <R extends Message> void write(Runnable check, InternalRequest request, StreamObserver<R> out,
                                           Function<R, R> stamp) {
        try {
            check.run();
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        if (request.getSerializedSize() > maxRequestBytes) {
            out.onError(EtcdErrors.REQUEST_TOO_LARGE);
            return;
        }
        Replies.whenApplied(proposer.propose(request), out, stamp);
    }
}
