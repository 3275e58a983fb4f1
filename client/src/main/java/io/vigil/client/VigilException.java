package io.vigil.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A call that failed: the gRPC status code and the server's message (etcd's words, e.g.
 * {@code etcdserver: mvcc: required revision has been compacted}).
 *
 * <p>{@link #outcomeUnknown()} tells a write's caller whether the write may have been applied
 * even though it failed (the connection or the deadline went while it was in flight). The
 * client never retries such a write: only the caller knows whether doing it twice is harmless.
 */
public final class VigilException extends RuntimeException {
    private final Status.Code code;
    private final boolean outcomeUnknown;

    VigilException(Status.Code code, String message, boolean outcomeUnknown, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.outcomeUnknown = outcomeUnknown;
    }

    /** The failure of a call whose effect is known not to have happened, or that changes nothing. */
    static VigilException of(StatusRuntimeException e) {
        return new VigilException(e.getStatus().getCode(), describe(e.getStatus()), false, e);
    }

    /** The failure of a write: its outcome is unknown unless the status says it was refused. */
    static VigilException ofWrite(StatusRuntimeException e) {
        return new VigilException(e.getStatus().getCode(), describe(e.getStatus()), !Retries.refused(e.getStatus()), e);
    }

    static VigilException timedOut(java.time.Duration timeout) {
        return new VigilException(Status.Code.DEADLINE_EXCEEDED, "no answer within " + timeout, false, null);
    }

    static VigilException closed() {
        return new VigilException(Status.Code.CANCELLED, "the client is closed", false, null);
    }

    private static String describe(Status s) {
        return s.getDescription() != null ? s.getDescription() : s.getCode().toString();
    }

    /** The gRPC status code (etcd's errors map onto these as in its rpctypes). */
    public Status.Code code() {
        return code;
    }

    /** Whether a failed write may still have been applied. */
    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
