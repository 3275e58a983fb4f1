package io.vigil.client;

import io.grpc.Deadline;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.StatusResponse;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;

/**
 * Unary calls with a deadline and the retry rule of {@link Retries}: every call ends within the
 * client's call timeout, retries included.
 */
final class Calls {
    private final Endpoints endpoints;
    private final Duration timeout;
    private final Executor background;
    private final AtomicBoolean lookingForLeader = new AtomicBoolean();

    Calls(Endpoints endpoints, Duration timeout, Executor background) {
        this.endpoints = endpoints;
        this.timeout = timeout;
        this.background = background;
    }

    Duration timeout() {
        return timeout;
    }

    /**
     * A call that changes nothing (or nothing twice): on a transient failure it is tried on the
     * next member, each member at most twice, until the deadline; when no member could even be
     * connected to, it then waits for a connection within the deadline.
     */
    <T> T read(BiFunction<Channel, Deadline, T> call) {
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        int attempts = 2 * endpoints.size();
        StatusRuntimeException last = null;
        boolean noneConnected = true;
        for (int i = 0; i < attempts && !deadline.isExpired(); i++) {
            int member = endpoints.preferred();
            try {
                return call.apply(endpoints.channel(member), deadline);
            } catch (StatusRuntimeException e) {
                if (!Retries.transientFailure(e.getStatus())) {
                    throw VigilException.of(e);
                }
                last = e;
                noneConnected &= Retries.neverSent(e.getStatus());
                endpoints.failed(member);
            }
        }
        if (noneConnected && !deadline.isExpired()) {
            try {
                return call.apply(waitingForReady(endpoints.preferred()), deadline);
            } catch (StatusRuntimeException e) {
                throw VigilException.of(e);
            }
        }
        throw last != null ? VigilException.of(last) : VigilException.timedOut(timeout);
    }

    /**
     * A write: sent once, to the leader when known. A failure that may have left it applied is
     * reported as such ({@link VigilException#outcomeUnknown()}), never retried; one that could
     * not connect at all goes to the next member, and when none could, it waits for a connection
     * within the deadline.
     */
    <T> T write(BiFunction<Channel, Deadline, T> call) {
        Deadline deadline = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        StatusRuntimeException last = null;
        // only a write that could not even connect is sent again, to the next member
        for (int i = 0; i < endpoints.size() && !deadline.isExpired(); i++) {
            int member = endpoints.forWrite();
            try {
                return call.apply(endpoints.channel(member), deadline);
            } catch (StatusRuntimeException e) {
                last = e;
                if (Retries.transientFailure(e.getStatus())) {
                    endpoints.failed(member);
                    findLeader();
                }
                if (!Retries.neverSent(e.getStatus())) {
                    throw VigilException.ofWrite(e);
                }
            }
        }
        if (!deadline.isExpired()) {
            try {
                return call.apply(waitingForReady(endpoints.forWrite()), deadline);
            } catch (StatusRuntimeException e) {
                throw VigilException.ofWrite(e);
            }
        }
        throw last != null ? VigilException.of(last) : VigilException.timedOut(timeout);
    }

    /**
     * When no member could be connected to (e.g. the only one restarts, and gRPC waits out its
     * reconnect backoff): the call waits for {@code member}'s connection until its deadline,
     * and is sent once it is up, instead of failing at once.
     */
    private Channel waitingForReady(int member) {
        return ClientInterceptors.intercept(endpoints.channel(member), WAIT_FOR_READY);
    }

    private static final ClientInterceptor WAIT_FOR_READY = new ClientInterceptor() {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return next.newCall(method, options.withWaitForReady());
        }
    };

    /** Asks every member, in the background, which one leads; later writes go there. */
    void findLeader() {
        if (!lookingForLeader.compareAndSet(false, true)) {
            return;
        }
        try {
            background.execute(this::askForLeader);
        } catch (RejectedExecutionException closed) {
            lookingForLeader.set(false);
        }
    }

    private void askForLeader() {
        try {
            for (int i = 0; i < endpoints.size(); i++) {
                try {
                    StatusResponse s = MaintenanceGrpc.newBlockingStub(endpoints.channel(i))
                            .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                            .status(StatusRequest.getDefaultInstance());
                    if (s.getLeader() != 0 && s.getLeader() == s.getHeader().getMemberId()) {
                        endpoints.leaderIs(i);
                        return;
                    }
                } catch (StatusRuntimeException e) {
                    // that member is not reachable now; ask the next
                }
            }
        } finally {
            lookingForLeader.set(false);
        }
    }
}
