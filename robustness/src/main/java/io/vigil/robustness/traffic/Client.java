package io.vigil.robustness.traffic;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import io.vigil.robustness.history.Recorder;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One client of the run: one thread making one call at a time, each with a deadline, each recorded
 * as an {@link Operation} once it returned. So a client's operations never overlap, and its call
 * and return times bracket the instant the server applied the request.
 *
 * <p>A client talks to one member until a call fails, then moves to the next member in the
 * current order (round-robin); clients start spread over the members.
 */
final class Client {
    private final int number;
    private final Members members;
    private final Recorder recorder;
    private final long deadlineMillis;
    private volatile String member;
    private boolean lastFailed;

    Client(int number, Members members, Recorder recorder, long deadlineMillis) {
        this.number = number;
        this.members = members;
        this.recorder = recorder;
        this.deadlineMillis = deadlineMillis;
        var now = members.current();
        this.member = now.get(Math.floorMod(number, now.size()));
    }

    int number() {
        return number;
    }

    String member() {
        return member;
    }

    Members members() {
        return members;
    }

    /** Whether this client's last call failed (its runner backs off before the next one). */
    boolean lastFailed() {
        return lastFailed;
    }

    /** The next call goes to the next member (after a failure seen elsewhere, e.g. on a watch). */
    void moveOn() {
        member = members.after(member);
    }

    /**
     * Sends {@code request} to this client's member and records the operation. Returns the
     * response, or null when the call failed (the error is in the history); after a failure the
     * next call goes to another member.
     */
    Response call(Request request) {
        if (!members.isMember(member)) {
            member = members.after(member);
        }
        String to = member;
        ManagedChannel channel = members.channel(to);
        long call = recorder.now();
        Response response = null;
        Status failure = null;
        try {
            response = send(channel, request);
        } catch (StatusRuntimeException e) {
            failure = e.getStatus();
        } catch (RuntimeException e) {
            failure = Status.fromThrowable(e);
        }
        long ret = recorder.now();
        Operation.Builder op = Operation.newBuilder()
                .setClient(number)
                .setMember(to)
                .setCallNanos(call)
                .setReturnNanos(ret)
                .setRequest(request);
        lastFailed = failure != null;
        if (failure == null) {
            op.setResponse(response);
        } else {
            op.setError(Outcomes.describe(failure)).setDefinitelyFailed(Outcomes.definitelyFailed(request, failure));
            member = members.after(to);
        }
        recorder.operation(op.build());
        return response;
    }

    private Response send(ManagedChannel channel, Request request) {
        Response.Builder r = Response.newBuilder();
        switch (request.getKindCase()) {
            case RANGE -> r.setRange(kv(channel).range(request.getRange()));
            case PUT -> r.setPut(kv(channel).put(request.getPut()));
            case DELETE_RANGE -> r.setDeleteRange(kv(channel).deleteRange(request.getDeleteRange()));
            case TXN -> r.setTxn(kv(channel).txn(request.getTxn()));
            case COMPACTION -> r.setCompaction(kv(channel).compact(request.getCompaction()));
            case LEASE_GRANT -> r.setLeaseGrant(lease(channel).leaseGrant(request.getLeaseGrant()));
            case LEASE_REVOKE -> r.setLeaseRevoke(lease(channel).leaseRevoke(request.getLeaseRevoke()));
            case LEASE_KEEP_ALIVE -> r.setLeaseKeepAlive(keepAliveOnce(channel, request.getLeaseKeepAlive()));
            case DEFRAGMENT -> r.setDefragment(MaintenanceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
                    .defragment(request.getDefragment()));
            case KIND_NOT_SET -> throw new IllegalArgumentException("empty request");
        }
        return r.build();
    }

    private KVGrpc.KVBlockingStub kv(ManagedChannel channel) {
        return KVGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
    }

    private LeaseGrpc.LeaseBlockingStub lease(ManagedChannel channel) {
        return LeaseGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * etcd's LeaseKeepAlive is a bidirectional stream; one request and the first response on a
     * fresh stream are one operation. The stream is half-closed after the request and cancelled
     * once the response (or the deadline) came, so nothing of it outlives the call.
     */
    private LeaseKeepAliveResponse keepAliveOnce(ManagedChannel channel, LeaseKeepAliveRequest request) {
        CompletableFuture<LeaseKeepAliveResponse> first = new CompletableFuture<>();
        StreamObserver<LeaseKeepAliveResponse> responses = new StreamObserver<>() {
            @Override
            public void onNext(LeaseKeepAliveResponse value) {
                first.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                first.completeExceptionally(Status.fromThrowable(t).asRuntimeException());
            }

            @Override
            public void onCompleted() {
                first.completeExceptionally(
                        Status.UNKNOWN.withDescription("keep-alive stream ended without a response").asRuntimeException());
            }
        };
        var requests = (ClientCallStreamObserver<LeaseKeepAliveRequest>) LeaseGrpc.newStub(channel)
                .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS)
                .leaseKeepAlive(responses);
        try {
            requests.onNext(request);
            requests.onCompleted();
            // the call's own deadline ends the stream; the extra second only covers its delivery
            return first.get(deadlineMillis + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof StatusRuntimeException s ? s : Status.fromThrowable(e.getCause()).asRuntimeException();
        } catch (TimeoutException e) {
            throw Status.DEADLINE_EXCEEDED.withDescription("no keep-alive response").asRuntimeException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } finally {
            requests.cancel("keep-alive exchange done", null);
        }
    }
}
