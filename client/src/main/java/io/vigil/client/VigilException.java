package io.vigil.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A call that failed: its status code (gRPC's codes, onto which etcd maps its errors) and the
 * server's message (etcd's words, e.g. {@code etcdserver: mvcc: required revision has been
 * compacted}).
 *
 * <p>{@link #outcomeUnknown()} tells a write's caller whether the write may have been applied
 * even though it failed (the connection or the deadline went while it was in flight). The
 * client never retries such a write: only the caller knows whether doing it twice is harmless.
 */
public final class VigilException extends RuntimeException {
    /** gRPC's status codes, by the same names (the client's API does not expose gRPC's types). */
    public enum Code {
        OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
        RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
        DATA_LOSS, UNAUTHENTICATED
    }

    private final Code code;
    private final boolean outcomeUnknown;

    VigilException(Status.Code code, String message, boolean outcomeUnknown, Throwable cause) {
        super(message, cause);
        this.code = Code.valueOf(code.name());
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

    private static String describe(Status s) {
        return s.getDescription() != null ? s.getDescription() : s.getCode().toString();
    }

    /** The status code. */
    public Code code() {
        return code;
    }

    /** Whether a failed write may still have been applied. */
    public boolean outcomeUnknown() {
        return outcomeUnknown;
    }
}
