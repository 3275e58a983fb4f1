package io.vigil.server;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.vigil.proto.etcdserverpb.ClusterGrpc;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.internal.AuthHeader;
import io.vigil.revlog.AuthStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Finds each client call's {@link Caller} and hands it to the services in the call's gRPC
 * context ({@link #current}); refuses the calls that etcd 3.4 reserves for users with the root
 * role before they start: Defragment, Hash, HashKV and Snapshot (with the auth package's
 * UNKNOWN errors, as etcd's authMaintenanceServer), and member remove, update and promote (with
 * etcd's errors; member add checks in {@link ClusterService}, after its URLs, as etcd does).
 * Everything else is checked where etcd checks it: reads by the services, writes and auth
 * requests when applied ({@link AuthStore}).
 *
 * <p>Client certificates: a call on a TLS connection whose client presented a verified
 * certificate, and no token, is its certificate's common name (etcd's AuthInfoFromTLS with
 * --client-cert-auth; the server only asks for client certificates when that is on).
 */
final class AuthCalls implements ServerInterceptor {
    static final Metadata.Key<String> TOKEN = Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);
    /** What etcd's gRPC gateway sends the token as. */
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Caller> CALLER = Context.key("vigil-caller");

    private static final Set<String> MAINTENANCE_ADMIN = Set.of(
            MaintenanceGrpc.getDefragmentMethod().getFullMethodName(),
            MaintenanceGrpc.getHashMethod().getFullMethodName(),
            MaintenanceGrpc.getHashKVMethod().getFullMethodName(),
            MaintenanceGrpc.getSnapshotMethod().getFullMethodName());
    private static final Set<String> CLUSTER_ADMIN = Set.of(
            ClusterGrpc.getMemberRemoveMethod().getFullMethodName(),
            ClusterGrpc.getMemberUpdateMethod().getFullMethodName(),
            ClusterGrpc.getMemberPromoteMethod().getFullMethodName());

    private final AuthStore auth;
    private final TokenProvider tokens;

    AuthCalls(AuthStore auth, TokenProvider tokens) {
        this.auth = auth;
        this.tokens = tokens;
    }

    /** The caller of the call being served; nobody when the call did not come through this interceptor. */
    static Caller current(AuthStore auth) {
        Caller c = CALLER.get();
        return c != null ? c : Caller.nobody(auth);
    }

    /** The caller of the call being served, or null when the call did not come through this interceptor. */
    static Caller currentOrNull() {
        return CALLER.get();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Caller caller = callerOf(call, headers);
        String method = call.getMethodDescriptor().getFullMethodName();
        StatusRuntimeException refused = MAINTENANCE_ADMIN.contains(method) ? caller.maintenanceRefusal()
                : CLUSTER_ADMIN.contains(method) ? caller.adminRefusal() : null;
        if (refused != null) {
            call.close(refused.getStatus(), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(Context.current().withValue(CALLER, caller), call, headers, next);
    }

    private Caller callerOf(ServerCall<?, ?> call, Metadata headers) {
        String token = headers.get(TOKEN);
        if (token == null) {
            token = headers.get(AUTHORIZATION);
        }
        if (token != null) {
            String t = token;
            return new Caller(auth, () -> tokens.info(t));
        }
        String cn = commonName(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        if (cn != null) {
            return new Caller(auth, () -> fromCommonName(cn));
        }
        return Caller.nobody(auth);
    }

    /** etcd's AuthInfoFromTLS: the certificate's common name is the user, at the auth revision of now. */
    AuthHeader fromCommonName(String cn) {
        return AuthHeader.newBuilder().setUsername(cn).setAuthRevision(auth.revision()).build();
    }

    /** The common name of the client's verified certificate, or null (no TLS, no certificate, no CN). */
    static String commonName(SSLSession session) {
        if (session == null) {
            return null;
        }
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException none) {
            return null;
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
            return null;
        }
        try {
            for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }
}
