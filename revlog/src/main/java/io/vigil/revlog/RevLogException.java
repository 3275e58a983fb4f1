package io.vigil.revlog;

/**
 * A request the store refuses, with etcd's reason. The server maps each {@link Code} to etcd's
 * gRPC status code and message in one table; the text here is etcd's message without its
 * "etcdserver: " prefix.
 */
public final class RevLogException extends RuntimeException {
    public enum Code {
        COMPACTED("mvcc: required revision has been compacted"),
        FUTURE_REVISION("mvcc: required revision is a future revision"),
        KEY_NOT_FOUND("key not found"),
        LEASE_NOT_FOUND("requested lease not found"),
        LEASE_EXISTS("lease already exists"),
        LEASE_TTL_TOO_LARGE("too large lease TTL"),
        EMPTY_KEY("key is not provided"),
        VALUE_PROVIDED("value is provided"),
        LEASE_PROVIDED("lease is provided"),
        TOO_MANY_OPS("too many operations in txn request"),
        DUPLICATE_KEY("duplicate key given in txn request"),
        NO_SPACE("mvcc: database space exceeded"),
        CORRUPT("corrupt cluster");

        private final String etcdMessage;

        Code(String etcdMessage) {
            this.etcdMessage = etcdMessage;
        }

        public String etcdMessage() {
            return etcdMessage;
        }
    }

    private final Code code;

    public RevLogException(Code code) {
        super(code.etcdMessage, null, false, false);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
