package io.vigil.server;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.internal.AuthHeader;
import io.vigil.revlog.AuthStore;
import io.vigil.revlog.RevLogException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Who a client call is, as etcd's AuthInfoFromCtx finds it: the user of the call's token (its
 * {@code token} metadata), else the common name of its verified client certificate, else nobody
 * (an empty user name at auth revision 0, refused everything with auth enabled). A token that
 * names no one (expired, forged, or issued before auth was disabled) fails every request that
 * needs the caller with "invalid auth token"; requests that etcd serves without looking at the
 * caller (Status, MemberList, lease keep-alives and time-to-live) never ask.
 */
final class Caller {
    static final AuthHeader NOBODY = AuthHeader.getDefaultInstance();

    private final AuthStore auth;
    /** Finds the caller again (a token's user at the auth revision of now); null: the token is invalid. */
    private final Supplier<AuthHeader> resolve;

    Caller(AuthStore auth, Supplier<AuthHeader> resolve) {
        this.auth = auth;
        this.resolve = resolve;
    }

    static Caller nobody(AuthStore auth) {
        return new Caller(auth, () -> NOBODY);
    }

    /** The header entries proposed for this caller carry. */
    AuthHeader header() {
        AuthHeader h = resolve.get();
        if (h == null) {
            throw new RevLogException(RevLogException.Code.INVALID_AUTH_TOKEN);
        }
        return h;
    }

    /**
     * etcd's doSerialize: {@code check} the caller, then {@code read}; if the auth store changed
     * meanwhile (another revision than the caller was found at), find the caller again and do both
     * again, so a read never outlives a permission revoked while it ran.
     */
    <T> T checkedRead(Consumer<AuthHeader> check, Supplier<T> read) {
        while (true) {
            AuthHeader h = header();
            check.accept(h);
            T result = read.get();
            if (h.getAuthRevision() == 0 || h.getAuthRevision() == auth.revision()) {
                return result;
            }
        }
    }

    void checkRange(AuthHeader h, ByteString key, ByteString rangeEnd) {
        auth.checkRange(h, key, rangeEnd);
    }

    void checkTxn(AuthHeader h, TxnRequest txn) {
        auth.checkTxn(h, txn);
    }

    /** Why this caller may not change the membership (etcd's checkMembershipOperationPermission), or null. */
    StatusRuntimeException adminRefusal() {
        try {
            auth.checkAdmin(header());
            return null;
        } catch (RevLogException e) {
            return EtcdErrors.of(e);
        }
    }

    /**
     * Why this caller may not defragment, hash or snapshot the store (etcd's authMaintenanceServer,
     * which passes the auth package's errors on unconverted: code UNKNOWN), or null.
     */
    StatusRuntimeException maintenanceRefusal() {
        try {
            auth.checkAdmin(header());
            return null;
        } catch (RevLogException e) {
            return EtcdErrors.authPackage(e);
        }
    }
}
