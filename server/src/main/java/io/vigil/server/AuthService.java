package io.vigil.server;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.authpb.User;
import io.vigil.proto.etcdserverpb.AuthDisableRequest;
import io.vigil.proto.etcdserverpb.AuthDisableResponse;
import io.vigil.proto.etcdserverpb.AuthEnableRequest;
import io.vigil.proto.etcdserverpb.AuthEnableResponse;
import io.vigil.proto.etcdserverpb.AuthGrpc;
import io.vigil.proto.etcdserverpb.AuthRoleAddRequest;
import io.vigil.proto.etcdserverpb.AuthRoleAddResponse;
import io.vigil.proto.etcdserverpb.AuthRoleDeleteRequest;
import io.vigil.proto.etcdserverpb.AuthRoleDeleteResponse;
import io.vigil.proto.etcdserverpb.AuthRoleGetRequest;
import io.vigil.proto.etcdserverpb.AuthRoleGetResponse;
import io.vigil.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.vigil.proto.etcdserverpb.AuthRoleGrantPermissionResponse;
import io.vigil.proto.etcdserverpb.AuthRoleListRequest;
import io.vigil.proto.etcdserverpb.AuthRoleListResponse;
import io.vigil.proto.etcdserverpb.AuthRoleRevokePermissionRequest;
import io.vigil.proto.etcdserverpb.AuthRoleRevokePermissionResponse;
import io.vigil.proto.etcdserverpb.AuthStatusRequest;
import io.vigil.proto.etcdserverpb.AuthStatusResponse;
import io.vigil.proto.etcdserverpb.AuthUserAddRequest;
import io.vigil.proto.etcdserverpb.AuthUserAddResponse;
import io.vigil.proto.etcdserverpb.AuthUserChangePasswordRequest;
import io.vigil.proto.etcdserverpb.AuthUserChangePasswordResponse;
import io.vigil.proto.etcdserverpb.AuthUserDeleteRequest;
import io.vigil.proto.etcdserverpb.AuthUserDeleteResponse;
import io.vigil.proto.etcdserverpb.AuthUserGetRequest;
import io.vigil.proto.etcdserverpb.AuthUserGetResponse;
import io.vigil.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.vigil.proto.etcdserverpb.AuthUserGrantRoleResponse;
import io.vigil.proto.etcdserverpb.AuthUserListRequest;
import io.vigil.proto.etcdserverpb.AuthUserListResponse;
import io.vigil.proto.etcdserverpb.AuthUserRevokeRoleRequest;
import io.vigil.proto.etcdserverpb.AuthUserRevokeRoleResponse;
import io.vigil.proto.etcdserverpb.AuthenticateRequest;
import io.vigil.proto.etcdserverpb.AuthenticateResponse;
import io.vigil.proto.internal.AuthHeader;
import io.vigil.proto.internal.AuthRequest;
import io.vigil.proto.internal.AuthenticateEntry;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.AuthStore;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * etcd's Auth service. Every request goes through the log, as in etcd 3.4, with its caller
 * ({@link Caller}): the applier checks who may do it and answers on this member once applied
 * ({@link AuthStore}). Passwords are checked, and hashed with bcrypt, on this member before
 * anything is proposed, on a small pool of its own (bcrypt is slow on purpose): the log and the
 * store only ever hold hashes. Authenticate is etcd's: a linearizable read point, the password
 * checked, then an entry through the log so every member knows the token; if the auth store
 * changed between the check and the entry, the check is made again.
 *
 * <p>AuthStatus is etcd 3.5's (etcd 3.4 answers UNIMPLEMENTED): whether auth is enabled and the
 * auth revision, for anyone.
 */
final class AuthService extends AuthGrpc.AuthImplBase implements AutoCloseable {
    /** Times Authenticate checks the password again when the auth store moved meanwhile (etcd retries until it did not). */
    private static final int AUTHENTICATE_ATTEMPTS = 10;

    private final RevLog revLog;
    private final AuthStore auth;
    private final Proposer log;
    private final Supplier<CompletableFuture<Void>> linearizableRead;
    private final ResponseHeaders headers;
    private final TokenProvider tokens;
    private final ExecutorService bcrypt = Executors.newFixedThreadPool(2, DaemonThreads.named("vigil-bcrypt"));

    AuthService(RevLog revLog, Proposer log, Supplier<CompletableFuture<Void>> linearizableRead,
                ResponseHeaders headers, TokenProvider tokens) {
        this.revLog = revLog;
        this.auth = revLog.auth();
        this.log = log;
        this.linearizableRead = linearizableRead;
        this.headers = headers;
        this.tokens = tokens;
    }

    @Override
    public void authEnable(AuthEnableRequest request, StreamObserver<AuthEnableResponse> out) {
        propose(AuthRequest.newBuilder().setEnable(request), out);
    }

    @Override
    public void authDisable(AuthDisableRequest request, StreamObserver<AuthDisableResponse> out) {
        propose(AuthRequest.newBuilder().setDisable(request), out);
    }

    @Override
    public void authStatus(AuthStatusRequest request, StreamObserver<AuthStatusResponse> out) {
        out.onNext(AuthStatusResponse.newBuilder().setHeader(headers.at(revLog.currentRevision()))
                .setEnabled(auth.isEnabled()).setAuthRevision(auth.revision()).build());
        out.onCompleted();
    }

    @Override
    public void authenticate(AuthenticateRequest request, StreamObserver<AuthenticateResponse> out) {
        linearizableRead.get().whenComplete((v, failure) -> {
            if (failure != null) {
                out.onError(EtcdErrors.toStatus(failure));
            } else {
                onBcryptPool(() -> authenticate(request, out, AUTHENTICATE_ATTEMPTS), out);
            }
        });
    }

    private void authenticate(AuthenticateRequest request, StreamObserver<AuthenticateResponse> out, int attempts) {
        long checkedAt;
        try {
            checkedAt = checkPassword(request.getName(), request.getPassword());
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return;
        }
        AuthRequest.Builder entry = AuthRequest.newBuilder().setAuthenticate(AuthenticateEntry.newBuilder()
                .setName(request.getName()).setSimpleToken(tokens.simpleTokenPrefix()));
        log.propose(InternalRequest.newBuilder().setAuth(entry).build()).whenComplete((r, failure) -> {
            if (failure == null && r.error() == null && checkedAt != auth.revision() && attempts > 1) {
                onBcryptPool(() -> authenticate(request, out, attempts - 1), out);
                return;
            }
            if (failure == null && r.error() == null && ((AuthenticateResponse) r.response()).getToken().isEmpty()) {
                out.onError(Status.UNKNOWN.withDescription(tokens.emptyTokenReason()).asRuntimeException());
                return;
            }
            answer(r, failure, out);
        });
    }

    /** etcd's CheckPassword: the auth revision the password was right at, or why it is refused. Slow. */
    private long checkPassword(String name, String password) {
        if (!auth.isEnabled()) {
            throw new RevLogException(RevLogException.Code.AUTH_NOT_ENABLED);
        }
        long revision = auth.revision();
        User u = auth.user(name);
        if (u == null) {
            throw new RevLogException(RevLogException.Code.AUTH_FAILED);
        }
        if (u.getOptions().getNoPassword()) {
            throw new RevLogException(RevLogException.Code.NO_PASSWORD_USER);
        }
        if (!Passwords.matches(u.getPassword().toStringUtf8(), password)) {
            throw new RevLogException(RevLogException.Code.AUTH_FAILED);
        }
        return revision;
    }

    @Override
    public void userAdd(AuthUserAddRequest request, StreamObserver<AuthUserAddResponse> out) {
        AuthHeader caller = caller(out);
        if (caller == null) {
            return;
        }
        onBcryptPool(() -> {
            AuthUserAddRequest.Builder hashed = request.toBuilder().clearPassword();
            if (!request.getOptions().getNoPassword() && (request.getHashedPassword().isEmpty() || !request.getPassword().isEmpty())) {
                hashed.setHashedPassword(Passwords.hash(request.getPassword()));
            }
            propose(AuthRequest.newBuilder().setUserAdd(hashed), caller, out);
        }, out);
    }

    @Override
    public void userChangePassword(AuthUserChangePasswordRequest request, StreamObserver<AuthUserChangePasswordResponse> out) {
        AuthHeader caller = caller(out);
        if (caller == null) {
            return;
        }
        onBcryptPool(() -> {
            AuthUserChangePasswordRequest.Builder hashed = request.toBuilder().clearPassword();
            if (request.getHashedPassword().isEmpty() || !request.getPassword().isEmpty()) {
                hashed.setHashedPassword(Passwords.hash(request.getPassword()));
            }
            propose(AuthRequest.newBuilder().setUserChangePassword(hashed), caller, out);
        }, out);
    }

    @Override
    public void userGet(AuthUserGetRequest request, StreamObserver<AuthUserGetResponse> out) {
        propose(AuthRequest.newBuilder().setUserGet(request), out);
    }

    @Override
    public void userList(AuthUserListRequest request, StreamObserver<AuthUserListResponse> out) {
        propose(AuthRequest.newBuilder().setUserList(request), out);
    }

    @Override
    public void userDelete(AuthUserDeleteRequest request, StreamObserver<AuthUserDeleteResponse> out) {
        propose(AuthRequest.newBuilder().setUserDelete(request), out);
    }

    @Override
    public void userGrantRole(AuthUserGrantRoleRequest request, StreamObserver<AuthUserGrantRoleResponse> out) {
        propose(AuthRequest.newBuilder().setUserGrantRole(request), out);
    }

    @Override
    public void userRevokeRole(AuthUserRevokeRoleRequest request, StreamObserver<AuthUserRevokeRoleResponse> out) {
        propose(AuthRequest.newBuilder().setUserRevokeRole(request), out);
    }

    @Override
    public void roleAdd(AuthRoleAddRequest request, StreamObserver<AuthRoleAddResponse> out) {
        propose(AuthRequest.newBuilder().setRoleAdd(request), out);
    }

    @Override
    public void roleGet(AuthRoleGetRequest request, StreamObserver<AuthRoleGetResponse> out) {
        propose(AuthRequest.newBuilder().setRoleGet(request), out);
    }

    @Override
    public void roleList(AuthRoleListRequest request, StreamObserver<AuthRoleListResponse> out) {
        propose(AuthRequest.newBuilder().setRoleList(request), out);
    }

    @Override
    public void roleDelete(AuthRoleDeleteRequest request, StreamObserver<AuthRoleDeleteResponse> out) {
        propose(AuthRequest.newBuilder().setRoleDelete(request), out);
    }

    @Override
    public void roleGrantPermission(AuthRoleGrantPermissionRequest request, StreamObserver<AuthRoleGrantPermissionResponse> out) {
        propose(AuthRequest.newBuilder().setRoleGrantPermission(request), out);
    }

    @Override
    public void roleRevokePermission(AuthRoleRevokePermissionRequest request, StreamObserver<AuthRoleRevokePermissionResponse> out) {
        propose(AuthRequest.newBuilder().setRoleRevokePermission(request), out);
    }

    /** The caller of the call being served, or null when its token is invalid (and the call answered so). */
    private AuthHeader caller(StreamObserver<?> out) {
        try {
            return AuthCalls.current(auth).header();
        } catch (RevLogException e) {
            out.onError(EtcdErrors.of(e));
            return null;
        }
    }

    private <R extends Message> void propose(AuthRequest.Builder request, StreamObserver<R> out) {
        AuthHeader caller = caller(out);
        if (caller != null) {
            propose(request, caller, out);
        }
    }

    private <R extends Message> void propose(AuthRequest.Builder request, AuthHeader caller, StreamObserver<R> out) {
        log.propose(InternalRequest.newBuilder().setAuth(request).setHeader(caller).build())
                .whenComplete((r, failure) -> answer(r, failure, out));
    }

    /** Answers with the applied response under this member's header at the entry's revision. */
    private <R extends Message> void answer(ApplyResult r, Throwable failure, StreamObserver<R> out) {
        if (failure != null) {
            out.onError(EtcdErrors.toStatus(failure));
        } else if (r.error() != null) {
            out.onError(EtcdErrors.of(r.error()));
        } else {
            Message resp = r.response();
            Descriptors.FieldDescriptor header = resp.getDescriptorForType().findFieldByName("header");
            @SuppressWarnings("unchecked")
            R stamped = (R) resp.toBuilder().setField(header, headers.at(r.revision())).build();
            out.onNext(stamped);
            out.onCompleted();
        }
    }

    private void onBcryptPool(Runnable task, StreamObserver<?> out) {
        try {
            bcrypt.execute(task);
        } catch (RejectedExecutionException stopping) {
            out.onError(EtcdErrors.STOPPING);
        }
    }

    @Override
    public void close() {
        bcrypt.shutdownNow();
    }
}
