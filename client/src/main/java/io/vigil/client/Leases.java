package io.vigil.client;

import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantResponse;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveResponse;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Leases: keys bound to one are deleted when it expires or is revoked. {@link #keepAlive} keeps
 * one alive for as long as the caller wants and says at once when it is lost.
 *
 * <pre>{@code
 * long lease = client.leases().grant(10);
 * client.kv().put(Op.put("services/api/10.0.0.7", "up").lease(lease));
 * KeepAlive k = client.leases().keepAlive(lease, (id, why) -> log.warn("registration lost: " + why));
 * }</pre>
 */
public final class Leases {
    private final Calls calls;
    private final Endpoints endpoints;
    private final Executor listenerExecutor;
    private final ScheduledExecutorService timer;

    Leases(Calls calls, Endpoints endpoints, Executor listenerExecutor, ScheduledExecutorService timer) {
        this.calls = calls;
        this.endpoints = endpoints;
        this.listenerExecutor = listenerExecutor;
        this.timer = timer;
    }

    /** A new lease of {@code ttlSeconds} (the server may grant more, never less); its id. */
    public long grant(long ttlSeconds) {
        return grantTtl(ttlSeconds).getID();
    }

    private LeaseGrantResponse grantTtl(long ttlSeconds) {
        LeaseGrantRequest r = LeaseGrantRequest.newBuilder().setTTL(ttlSeconds).build();
        return calls.write((channel, deadline) -> LeaseGrpc.newBlockingStub(channel).withDeadline(deadline).leaseGrant(r));
    }

    /** Ends the lease now; its keys are deleted. Repeated, it fails as not found. */
    public void revoke(long leaseId) {
        LeaseRevokeRequest r = LeaseRevokeRequest.newBuilder().setID(leaseId).build();
        calls.write((channel, deadline) -> LeaseGrpc.newBlockingStub(channel).withDeadline(deadline).leaseRevoke(r));
    }

    /** The seconds the lease has left, -1 when it does not exist (any more). */
    public long timeToLive(long leaseId) {
        LeaseTimeToLiveRequest r = LeaseTimeToLiveRequest.newBuilder().setID(leaseId).build();
        LeaseTimeToLiveResponse a = calls.read((channel, deadline) ->
                LeaseGrpc.newBlockingStub(channel).withDeadline(deadline).leaseTimeToLive(r));
        return a.getTTL();
    }

    /**
     * Keeps {@code leaseId} alive until the returned handle is closed, renewing every third of
     * its TTL on whichever member answers; {@code listener} hears of each renewal and, once, of
     * the lease's loss.
     */
    public KeepAlive keepAlive(long leaseId, LeaseListener listener) {
        long ttl = timeToLive(leaseId);
        if (ttl <= 0) {
            throw new VigilException(io.grpc.Status.Code.NOT_FOUND, "etcdserver: requested lease not found", false, null);
        }
        KeepAlive k = new KeepAlive(leaseId, ttl, endpoints, listener, new SerialExecutor(listenerExecutor), timer);
        k.start();
        return k;
    }
}
