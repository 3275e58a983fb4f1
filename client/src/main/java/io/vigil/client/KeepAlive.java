package io.vigil.client;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveResponse;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keeps one lease alive until closed: a renewal every third of its TTL over a keep-alive stream,
 * which moves to the next member when it fails. It never stops silently: when the server answers
 * TTL 0 (expired or revoked) or no renewal succeeds before the TTL of the last one runs out, the
 * listener is told {@link LeaseListener#onLost} once and the keep-alive ends.
 *
 * <p>Everything (ticks, answers, failures, the listener) runs on one serial executor, in order.
 */
public final class KeepAlive implements AutoCloseable {
    private static final long MIN_TICK_MS = 100;

    private final long leaseId;
    private final Endpoints endpoints;
    private final LeaseListener listener;
    private final SerialExecutor serial;
    private final ScheduledExecutorService timer;
    // on the serial executor
    private long ttlSeconds;
    /** System.nanoTime() by which a renewal must succeed, else the lease is taken as lost. */
    private long expiresAt;
    private Stream stream;
    private ScheduledFuture<?> tick;
    private volatile boolean ended;

    KeepAlive(long leaseId, long ttlSeconds, Endpoints endpoints, LeaseListener listener, SerialExecutor serial,
              ScheduledExecutorService timer) {
        this.leaseId = leaseId;
        this.ttlSeconds = ttlSeconds;
        this.endpoints = endpoints;
        this.listener = listener;
        this.serial = serial;
        this.timer = timer;
    }

    void start() {
        serial.execute(() -> {
            expiresAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(ttlSeconds);
            renew();
        });
    }

    public long leaseId() {
        return leaseId;
    }

    /** Whether it still renews (not lost, not closed). */
    public boolean isAlive() {
        return !ended;
    }

    /** Stops renewing; the lease itself lives on until its TTL runs out (revoke it to end it now). */
    @Override
    public void close() {
        ended = true;
        serial.execute(this::stop);
    }

    /** One tick: the lease lost if its time ran out, else a renewal sent and the next tick set. */
    private void renew() {
        if (ended) {
            return;
        }
        if (System.nanoTime() - expiresAt >= 0) {
            lost("not renewed within its TTL of " + ttlSeconds + " s: it may have expired");
            return;
        }
        if (stream == null) {
            int member = endpoints.preferred();
            stream = new Stream(member);
            LeaseGrpc.newStub(endpoints.channel(member)).leaseKeepAlive(stream);
        }
        stream.sentAt.add(System.nanoTime());
        stream.requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(leaseId).build());
        long period = Math.max(MIN_TICK_MS, TimeUnit.SECONDS.toMillis(ttlSeconds) / 3);
        try {
            tick = timer.schedule(() -> serial.execute(this::renew), period, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            ended = true; // the client closed
        }
    }

    private void onAnswer(Stream from, LeaseKeepAliveResponse r) {
        if (ended || from != stream) {
            return;
        }
        // answers come in the order of the requests; the server renewed no earlier than this one was sent
        Long sentAt = from.sentAt.poll();
        if (r.getTTL() <= 0) {
            lost("the server says it expired or was revoked");
            return;
        }
        ttlSeconds = r.getTTL();
        if (sentAt != null) {
            expiresAt = sentAt + TimeUnit.SECONDS.toNanos(ttlSeconds);
        }
        listener.onRenewed(leaseId, ttlSeconds);
    }

    private void onFailure(Stream from, Status status) {
        if (ended || from != stream) {
            return;
        }
        stream = null;
        endpoints.failed(from.member);
        // the next tick opens a stream on the next member; the lease is lost only when time runs out
    }

    private void lost(String reason) {
        stop();
        ended = true;
        listener.onLost(leaseId, reason);
    }

    private void stop() {
        if (tick != null) {
            tick.cancel(false);
        }
        if (stream != null) {
            stream.requests.cancel("keep-alive ended", null);
            stream = null;
        }
    }

    /** One keep-alive stream, on one member. */
    private final class Stream implements ClientResponseObserver<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
        final int member;
        /** When each request not yet answered was sent (on the serial executor). */
        final java.util.ArrayDeque<Long> sentAt = new java.util.ArrayDeque<>();
        ClientCallStreamObserver<LeaseKeepAliveRequest> requests;

        Stream(int member) {
            this.member = member;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<LeaseKeepAliveRequest> requestStream) {
            requests = requestStream;
        }

        @Override
        public void onNext(LeaseKeepAliveResponse r) {
            serial.execute(() -> onAnswer(this, r));
        }

        @Override
        public void onError(Throwable t) {
            serial.execute(() -> onFailure(this, Status.fromThrowable(t)));
        }

        @Override
        public void onCompleted() {
            serial.execute(() -> onFailure(this, Status.UNAVAILABLE));
        }
    }
}
