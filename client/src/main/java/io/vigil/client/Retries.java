package io.vigil.client;

import io.grpc.Status;

/**
 * Which failures may be tried again, and where. The rule: a read or a watch may be repeated on
 * any member; a write is never repeated by the client once it may have reached a server, because
 * a put or a transaction applied twice is not the same as once (a revision moves, a compare
 * that held may not hold again). gRPC's own transparent retry still resends a call that never
 * left this process.
 */
final class Retries {
    private Retries() {
    }

    /**
     * Whether a call failed in a way another member (or the same one, later) may not: the
     * connection, the member's leader, or its being overloaded or shut down.
     */
    static boolean transientFailure(Status status) {
        return switch (status.getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNKNOWN, CANCELLED -> true;
            default -> false;
        };
    }

    /**
     * Whether the call never reached a server: its connection could not be made. Even a write
     * may then go to another member.
     */
    static boolean neverSent(Status status) {
        if (status.getCode() != Status.Code.UNAVAILABLE) {
            return false;
        }
        for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the server refused a write before proposing it, so it certainly did not happen:
     * bad arguments, permissions, auth, a failed precondition, too large or too many requests, no
     * space left (etcd's "database space exceeded").
     */
    static boolean refused(Status status) {
        return switch (status.getCode()) {
            case INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED, FAILED_PRECONDITION, OUT_OF_RANGE, NOT_FOUND,
                 ALREADY_EXISTS, UNIMPLEMENTED, RESOURCE_EXHAUSTED -> true;
            default -> false;
        };
    }
}
