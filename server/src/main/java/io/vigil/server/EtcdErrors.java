package io.vigil.server;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vigil.revlog.RevLogException;
import java.util.EnumMap;
import java.util.Map;

/**
 * The one table from store refusals to etcd's gRPC status codes and messages. Clients match on
 * these exact strings (clientv3's rpctypes), so they must stay byte-for-byte etcd's.
 */
final class EtcdErrors {
    private static final Map<RevLogException.Code, Status.Code> CODES = new EnumMap<>(Map.ofEntries(
            Map.entry(RevLogException.Code.COMPACTED, Status.Code.OUT_OF_RANGE),
            Map.entry(RevLogException.Code.FUTURE_REVISION, Status.Code.OUT_OF_RANGE),
            Map.entry(RevLogException.Code.KEY_NOT_FOUND, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.LEASE_NOT_FOUND, Status.Code.NOT_FOUND),
            Map.entry(RevLogException.Code.LEASE_EXISTS, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.LEASE_TTL_TOO_LARGE, Status.Code.OUT_OF_RANGE),
            Map.entry(RevLogException.Code.EMPTY_KEY, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.VALUE_PROVIDED, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.LEASE_PROVIDED, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.TOO_MANY_OPS, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.DUPLICATE_KEY, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.NO_SPACE, Status.Code.RESOURCE_EXHAUSTED),
            Map.entry(RevLogException.Code.CORRUPT, Status.Code.DATA_LOSS),
            Map.entry(RevLogException.Code.ROOT_USER_NOT_EXIST, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.ROOT_ROLE_NOT_EXIST, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.USER_ALREADY_EXIST, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.USER_EMPTY, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.USER_NOT_FOUND, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.ROLE_ALREADY_EXIST, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.ROLE_NOT_FOUND, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.ROLE_EMPTY, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.AUTH_FAILED, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.PERMISSION_DENIED, Status.Code.PERMISSION_DENIED),
            Map.entry(RevLogException.Code.ROLE_NOT_GRANTED, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.PERMISSION_NOT_GRANTED, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.AUTH_NOT_ENABLED, Status.Code.FAILED_PRECONDITION),
            Map.entry(RevLogException.Code.INVALID_AUTH_TOKEN, Status.Code.UNAUTHENTICATED),
            Map.entry(RevLogException.Code.INVALID_AUTH_MGMT, Status.Code.INVALID_ARGUMENT),
            Map.entry(RevLogException.Code.AUTH_OLD_REVISION, Status.Code.INVALID_ARGUMENT)));

    /**
     * etcd's auth package's own texts, for the errors etcd answers without its gRPC table: code
     * UNKNOWN and "auth: " + this (the maintenance service's admin check, a no-password user).
     * Where they differ from the table's text they are listed; the others are the same words.
     */
    private static final Map<RevLogException.Code, String> AUTH_PACKAGE_TEXT = new EnumMap<>(Map.of(
            RevLogException.Code.USER_NOT_FOUND, "user not found",
            RevLogException.Code.USER_ALREADY_EXIST, "user already exists",
            RevLogException.Code.ROLE_NOT_FOUND, "role not found",
            RevLogException.Code.AUTH_OLD_REVISION, "revision in header is old"));

    static final StatusRuntimeException REQUEST_TOO_LARGE =
            Status.INVALID_ARGUMENT.withDescription("etcdserver: request is too large").asRuntimeException();
    static final StatusRuntimeException TOO_MANY_REQUESTS =
            Status.RESOURCE_EXHAUSTED.withDescription("etcdserver: too many requests").asRuntimeException();
    static final StatusRuntimeException TIMEOUT =
            Status.UNAVAILABLE.withDescription("etcdserver: request timed out").asRuntimeException();
    static final StatusRuntimeException NO_LEADER =
            Status.UNAVAILABLE.withDescription("etcdserver: no leader").asRuntimeException();
    static final StatusRuntimeException NOT_LEADER =
            Status.FAILED_PRECONDITION.withDescription("etcdserver: not leader").asRuntimeException();
    static final StatusRuntimeException BAD_LEADER_TRANSFEREE =
            Status.FAILED_PRECONDITION.withDescription("etcdserver: bad leader transferee").asRuntimeException();
    static final StatusRuntimeException MEMBER_EXIST =
            Status.FAILED_PRECONDITION.withDescription("etcdserver: member ID already exist").asRuntimeException();
    static final StatusRuntimeException PEER_URL_EXIST =
            Status.FAILED_PRECONDITION.withDescription("etcdserver: Peer URLs already exists").asRuntimeException();
    static final StatusRuntimeException MEMBER_NOT_ENOUGH_STARTED = Status.FAILED_PRECONDITION
            .withDescription("etcdserver: re-configuration failed due to not enough started members").asRuntimeException();
    static final StatusRuntimeException MEMBER_BAD_URLS =
            Status.INVALID_ARGUMENT.withDescription("etcdserver: given member URLs are invalid").asRuntimeException();
    static final StatusRuntimeException MEMBER_NOT_FOUND =
            Status.NOT_FOUND.withDescription("etcdserver: member not found").asRuntimeException();
    static final StatusRuntimeException MEMBER_NOT_LEARNER =
            Status.FAILED_PRECONDITION.withDescription("etcdserver: can only promote a learner member").asRuntimeException();
    static final StatusRuntimeException LEARNER_NOT_READY = Status.FAILED_PRECONDITION
            .withDescription("etcdserver: can only promote a learner member which is in sync with leader").asRuntimeException();
    static final StatusRuntimeException NOT_SUPPORTED_FOR_LEARNER =
            Status.UNAVAILABLE.withDescription("etcdserver: rpc not supported for learner").asRuntimeException();
    static final StatusRuntimeException STOPPING =
            Status.UNAVAILABLE.withDescription("etcdserver: server stopped").asRuntimeException();

    /**
     * Vigil's own limits (--max-watchers-per-stream, --max-watchers-per-connection): a watch
     * create beyond them is answered created and canceled with this cancel_reason, as etcd refuses
     * one watch, and the stream's other watchers go on. The watch hub writes it.
     */
    static final String TOO_MANY_WATCHERS = io.vigil.watch.WatchHub.ERR_TOO_MANY_WATCHERS;

    // etcd's Lock and Election services answer these as plain Go errors: gRPC code UNKNOWN
    static final StatusRuntimeException ELECTION_NOT_LEADER =
            Status.UNKNOWN.withDescription("election: not leader").asRuntimeException();
    static final StatusRuntimeException ELECTION_NO_LEADER =
            Status.UNKNOWN.withDescription("election: no leader").asRuntimeException();
    static final StatusRuntimeException ELECTION_MISSING_LEADER_KEY =
            Status.UNKNOWN.withDescription("\"leader\" field must be provided").asRuntimeException();
    static final StatusRuntimeException LOCK_SESSION_EXPIRED =
            Status.UNKNOWN.withDescription("mutex: session is expired").asRuntimeException();

    private EtcdErrors() {
    }

    static StatusRuntimeException of(RevLogException e) {
        if (e.code() == RevLogException.Code.NO_PASSWORD_USER) {
            return authPackage(e);
        }
        return Status.fromCode(CODES.get(e.code()))
                .withDescription("etcdserver: " + e.code().etcdMessage())
                .asRuntimeException();
    }

    /** An auth refusal as etcd's auth package words it, passed on unconverted: code UNKNOWN. */
    static StatusRuntimeException authPackage(RevLogException e) {
        return Status.UNKNOWN.withDescription("auth: " + AUTH_PACKAGE_TEXT.getOrDefault(e.code(), e.code().etcdMessage()))
                .asRuntimeException();
    }

    /**
     * A failure as etcd's Lock and Election services answer it. They reach the KV through an
     * in-process clientv3, which turns etcd's statuses into plain errors, and gRPC sends a plain
     * error as UNKNOWN: the client sees etcd's message with code UNKNOWN (verified against etcd
     * 3.4: a lock on an unknown lease is UNKNOWN "etcdserver: requested lease not found").
     */
    static StatusRuntimeException viaLocalClient(Throwable t) {
        StatusRuntimeException s = toStatus(t);
        if (s.getStatus().getCode() == Status.Code.UNKNOWN) {
            return s;
        }
        return Status.UNKNOWN.withDescription(s.getStatus().getDescription()).asRuntimeException();
    }

    /** Any failure of a request, as the status a client should see. */
    static StatusRuntimeException toStatus(Throwable t) {
        Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof RevLogException e) {
            return of(e);
        }
        if (cause instanceof StatusRuntimeException s) {
            return s;
        }
        if (cause instanceof java.util.concurrent.TimeoutException) {
            return TIMEOUT;
        }
        if (cause instanceof IllegalStateException) {
            return STOPPING;
        }
        return Status.INTERNAL.withDescription(String.valueOf(cause.getMessage())).withCause(cause).asRuntimeException();
    }
}
