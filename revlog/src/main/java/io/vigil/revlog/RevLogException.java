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
        CORRUPT("corrupt cluster"),
        // etcd's auth errors (rpctypes)
        ROOT_USER_NOT_EXIST("root user does not exist"),
        ROOT_ROLE_NOT_EXIST("root user does not have root role"),
        USER_ALREADY_EXIST("user name already exists"),
        USER_EMPTY("user name is empty"),
        USER_NOT_FOUND("user name not found"),
        ROLE_ALREADY_EXIST("role name already exists"),
        ROLE_NOT_FOUND("role name not found"),
        ROLE_EMPTY("role name is empty"),
        AUTH_FAILED("authentication failed, invalid user ID or password"),
        /** etcd 3.4 has no gRPC error for it: its clients see "auth: " + this, code UNKNOWN. */
        NO_PASSWORD_USER("authentication failed, password was given for no password user"),
        PERMISSION_DENIED("permission denied"),
        ROLE_NOT_GRANTED("role is not granted to the user"),
        PERMISSION_NOT_GRANTED("permission is not granted to the role"),
        AUTH_NOT_ENABLED("authentication is not enabled"),
        INVALID_AUTH_TOKEN("invalid auth token"),
        INVALID_AUTH_MGMT("invalid auth management"),
        AUTH_OLD_REVISION("revision of auth store is old");

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
