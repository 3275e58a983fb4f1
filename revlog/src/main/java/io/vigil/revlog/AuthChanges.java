package io.vigil.revlog;

import static io.vigil.revlog.AuthStore.META_ENABLED;
import static io.vigil.revlog.AuthStore.META_REVISION;
import static io.vigil.revlog.AuthStore.ROLE_PREFIX;
import static io.vigil.revlog.AuthStore.ROOT;
import static io.vigil.revlog.AuthStore.USER_PREFIX;
import static io.vigil.revlog.AuthStore.checkNameLength;
import static io.vigil.revlog.AuthStore.hasRoot;
import static io.vigil.revlog.AuthStore.key;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.vigil.proto.authpb.Permission;
import io.vigil.proto.authpb.Role;
import io.vigil.proto.authpb.User;
import io.vigil.proto.authpb.UserAddOptions;
import io.vigil.proto.etcdserverpb.AuthDisableResponse;
import io.vigil.proto.etcdserverpb.AuthEnableResponse;
import io.vigil.proto.etcdserverpb.AuthRoleAddRequest;
import io.vigil.proto.etcdserverpb.AuthRoleAddResponse;
import io.vigil.proto.etcdserverpb.AuthRoleDeleteResponse;
import io.vigil.proto.etcdserverpb.AuthRoleGetResponse;
import io.vigil.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.vigil.proto.etcdserverpb.AuthRoleGrantPermissionResponse;
import io.vigil.proto.etcdserverpb.AuthRoleListResponse;
import io.vigil.proto.etcdserverpb.AuthRoleRevokePermissionRequest;
import io.vigil.proto.etcdserverpb.AuthRoleRevokePermissionResponse;
import io.vigil.proto.etcdserverpb.AuthUserAddRequest;
import io.vigil.proto.etcdserverpb.AuthUserAddResponse;
import io.vigil.proto.etcdserverpb.AuthUserChangePasswordResponse;
import io.vigil.proto.etcdserverpb.AuthUserDeleteResponse;
import io.vigil.proto.etcdserverpb.AuthUserGetResponse;
import io.vigil.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.vigil.proto.etcdserverpb.AuthUserGrantRoleResponse;
import io.vigil.proto.etcdserverpb.AuthUserListResponse;
import io.vigil.proto.etcdserverpb.AuthUserRevokeRoleRequest;
import io.vigil.proto.etcdserverpb.AuthUserRevokeRoleResponse;
import io.vigil.proto.etcdserverpb.AuthenticateResponse;
import io.vigil.proto.internal.AuthHeader;
import io.vigil.proto.internal.AuthRequest;
import io.vigil.revlog.AuthStore.State;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.lmdbjava.Txn;

/**
 * The auth requests of one log entry applied to an {@link AuthStore}, as etcd's auth store
 * applies them: each change is written to the entry's LMDB transaction and then published as
 * the store's new state, one auth revision on (but enable, which keeps the revision, as etcd 3.4
 * does). A refused request writes nothing and publishes nothing. Apply thread only.
 */
final class AuthChanges {
    private final AuthStore auth;
    private final LmdbStore store;
    private final Txn<byte[]> txn;

    AuthChanges(AuthStore auth, LmdbStore store, Txn<byte[]> txn) {
        this.auth = auth;
        this.store = store;
        this.txn = txn;
    }

    /**
     * Applies an auth request of the log entry {@code index} as etcd's auth store does, after the
     * admin check etcd's authApplierV3 makes (a user may get itself and the roles it has). A
     * missing header is an unauthenticated caller here: auth requests always come from clients.
     *
     * @throws RevLogException the request is refused; nothing was written
     */
    Message apply(AuthRequest request, AuthHeader header, long index) {
        AuthHeader caller = header == null ? AuthHeader.getDefaultInstance() : header;
        State s = auth.state();
        switch (request.getRequestCase()) {
            case AUTHENTICATE -> {
                return authenticate(s, request.getAuthenticate().getName(), request.getAuthenticate().getSimpleToken(), index);
            }
            case USER_GET -> {
                String name = request.getUserGet().getName();
                checkAdminUnless(caller, s.enabled() && caller.getUsername().equals(name));
                User u = s.users().get(name);
                if (u == null) {
                    throw new RevLogException(RevLogException.Code.USER_NOT_FOUND);
                }
                return AuthUserGetResponse.newBuilder().addAllRoles(u.getRolesList()).build();
            }
            case ROLE_GET -> {
                String role = request.getRoleGet().getRole();
                User self = s.users().get(caller.getUsername());
                checkAdminUnless(caller, s.enabled() && self != null && self.getRolesList().contains(role));
                Role r = s.roles().get(role);
                if (r == null) {
                    throw new RevLogException(RevLogException.Code.ROLE_NOT_FOUND);
                }
                return AuthRoleGetResponse.newBuilder().addAllPerm(r.getKeyPermissionList()).build();
            }
            default -> auth.checkAdmin(caller);
        }
        return switch (request.getRequestCase()) {
            case ENABLE -> enable(s);
            case DISABLE -> disable(s);
            case USER_ADD -> userAdd(s, request.getUserAdd());
            case USER_DELETE -> userDelete(s, request.getUserDelete().getName());
            case USER_CHANGE_PASSWORD -> userChangePassword(s, request.getUserChangePassword().getName(),
                    request.getUserChangePassword().getHashedPassword());
            case USER_GRANT_ROLE -> userGrantRole(s, request.getUserGrantRole());
            case USER_REVOKE_ROLE -> userRevokeRole(s, request.getUserRevokeRole());
            case USER_LIST -> AuthUserListResponse.newBuilder().addAllUsers(s.users().keySet()).build();
            case ROLE_ADD -> roleAdd(s, request.getRoleAdd());
            case ROLE_DELETE -> roleDelete(s, request.getRoleDelete().getRole());
            case ROLE_GRANT_PERMISSION -> roleGrantPermission(s, request.getRoleGrantPermission());
            case ROLE_REVOKE_PERMISSION -> roleRevokePermission(s, request.getRoleRevokePermission());
            case ROLE_LIST -> AuthRoleListResponse.newBuilder().addAllRoles(s.roles().keySet()).build();
            default -> throw new IllegalArgumentException("auth entry " + index + " holds no request");
        };
    }

    private void checkAdminUnless(AuthHeader caller, boolean allowed) {
        if (!allowed) {
            auth.checkAdmin(caller);
        }
    }

    private Message authenticate(State s, String name, String simpleTokenPrefix, long index) {
        if (!s.enabled()) {
            throw new RevLogException(RevLogException.Code.AUTH_NOT_ENABLED);
        }
        User u = s.users().get(name);
        if (u == null || u.getOptions().getNoPassword()) {
            throw new RevLogException(RevLogException.Code.AUTH_FAILED);
        }
        return AuthenticateResponse.newBuilder().setToken(auth.tokens().assign(name, s.revision(), simpleTokenPrefix, index)).build();
    }

    private Message enable(State s) {
        if (s.enabled()) {
            return AuthEnableResponse.getDefaultInstance();
        }
        User root = s.users().get(ROOT);
        if (root == null) {
            throw new RevLogException(RevLogException.Code.ROOT_USER_NOT_EXIST);
        }
        if (!hasRoot(root)) {
            throw new RevLogException(RevLogException.Code.ROOT_ROLE_NOT_EXIST);
        }
        store.putMeta(txn, META_ENABLED, 1);
        // etcd 3.4 leaves the revision as it is when enabling
        auth.publish(new State(true, s.revision(), new TreeMap<>(s.users()), new TreeMap<>(s.roles())));
        auth.tokens().enable();
        return AuthEnableResponse.getDefaultInstance();
    }

    private Message disable(State s) {
        if (!s.enabled()) {
            return AuthDisableResponse.getDefaultInstance();
        }
        store.putMeta(txn, META_ENABLED, 0);
        commit(false, s.revision(), s.users(), s.roles());
        auth.tokens().disable();
        return AuthDisableResponse.getDefaultInstance();
    }

    private Message userAdd(State s, AuthUserAddRequest r) {
        if (r.getName().isEmpty()) {
            throw new RevLogException(RevLogException.Code.USER_EMPTY);
        }
        if (s.users().containsKey(r.getName())) {
            throw new RevLogException(RevLogException.Code.USER_ALREADY_EXIST);
        }
        checkNameLength(r.getName());
        UserAddOptions options = r.hasOptions() ? r.getOptions() : UserAddOptions.getDefaultInstance();
        User.Builder u = User.newBuilder().setName(ByteString.copyFromUtf8(r.getName())).setOptions(options);
        if (!options.getNoPassword()) {
            u.setPassword(ByteString.copyFromUtf8(r.getHashedPassword()));
        }
        NavigableMap<String, User> users = new TreeMap<>(s.users());
        users.put(r.getName(), u.build());
        putUser(u.build());
        commit(s.enabled(), s.revision(), users, s.roles());
        return AuthUserAddResponse.getDefaultInstance();
    }

    private Message userDelete(State s, String name) {
        if (s.enabled() && name.equals(ROOT)) {
            throw new RevLogException(RevLogException.Code.INVALID_AUTH_MGMT);
        }
        if (!s.users().containsKey(name)) {
            throw new RevLogException(RevLogException.Code.USER_NOT_FOUND);
        }
        NavigableMap<String, User> users = new TreeMap<>(s.users());
        users.remove(name);
        store.meta.delete(txn, key(USER_PREFIX, ByteString.copyFromUtf8(name)));
        commit(s.enabled(), s.revision(), users, s.roles());
        auth.tokens().invalidateUser(name);
        return AuthUserDeleteResponse.getDefaultInstance();
    }

    private Message userChangePassword(State s, String name, String hashed) {
        User u = s.users().get(name);
        if (u == null) {
            throw new RevLogException(RevLogException.Code.USER_NOT_FOUND);
        }
        User changed = u.toBuilder().setPassword(ByteString.copyFromUtf8(hashed)).build();
        replaceUser(s, changed);
        auth.tokens().invalidateUser(name);
        return AuthUserChangePasswordResponse.getDefaultInstance();
    }

    private Message userGrantRole(State s, AuthUserGrantRoleRequest r) {
        User u = s.users().get(r.getUser());
        if (u == null) {
            throw new RevLogException(RevLogException.Code.USER_NOT_FOUND);
        }
        if (!r.getRole().equals(ROOT) && !s.roles().containsKey(r.getRole())) {
            throw new RevLogException(RevLogException.Code.ROLE_NOT_FOUND);
        }
        if (u.getRolesList().contains(r.getRole())) {
            return AuthUserGrantRoleResponse.getDefaultInstance(); // etcd: granted already, nothing changes
        }
        List<String> roles = new ArrayList<>(u.getRolesList());
        roles.add(r.getRole());
        Collections.sort(roles);
        replaceUser(s, u.toBuilder().clearRoles().addAllRoles(roles).build());
        return AuthUserGrantRoleResponse.getDefaultInstance();
    }

    private Message userRevokeRole(State s, AuthUserRevokeRoleRequest r) {
        if (s.enabled() && r.getName().equals(ROOT) && r.getRole().equals(ROOT)) {
            throw new RevLogException(RevLogException.Code.INVALID_AUTH_MGMT);
        }
        User u = s.users().get(r.getName());
        if (u == null) {
            throw new RevLogException(RevLogException.Code.USER_NOT_FOUND);
        }
        List<String> roles = new ArrayList<>(u.getRolesList());
        if (!roles.removeIf(r.getRole()::equals)) {
            throw new RevLogException(RevLogException.Code.ROLE_NOT_GRANTED);
        }
        replaceUser(s, u.toBuilder().clearRoles().addAllRoles(roles).build());
        return AuthUserRevokeRoleResponse.getDefaultInstance();
    }

    private Message roleAdd(State s, AuthRoleAddRequest r) {
        if (r.getName().isEmpty()) {
            throw new RevLogException(RevLogException.Code.ROLE_EMPTY);
        }
        if (s.roles().containsKey(r.getName())) {
            throw new RevLogException(RevLogException.Code.ROLE_ALREADY_EXIST);
        }
        checkNameLength(r.getName());
        replaceRole(s, Role.newBuilder().setName(ByteString.copyFromUtf8(r.getName())).build());
        return AuthRoleAddResponse.getDefaultInstance();
    }

    private Message roleDelete(State s, String role) {
        if (s.enabled() && role.equals(ROOT)) {
            throw new RevLogException(RevLogException.Code.INVALID_AUTH_MGMT);
        }
        if (!s.roles().containsKey(role)) {
            throw new RevLogException(RevLogException.Code.ROLE_NOT_FOUND);
        }
        NavigableMap<String, Role> roles = new TreeMap<>(s.roles());
        roles.remove(role);
        store.meta.delete(txn, key(ROLE_PREFIX, ByteString.copyFromUtf8(role)));
        NavigableMap<String, User> users = new TreeMap<>(s.users());
        for (User u : s.users().values()) {
            if (u.getRolesList().contains(role)) {
                List<String> left = new ArrayList<>(u.getRolesList());
                left.removeIf(role::equals);
                User changed = u.toBuilder().clearRoles().addAllRoles(left).build();
                users.put(changed.getName().toStringUtf8(), changed);
                putUser(changed);
            }
        }
        commit(s.enabled(), s.revision(), users, roles);
        return AuthRoleDeleteResponse.getDefaultInstance();
    }

    private Message roleGrantPermission(State s, AuthRoleGrantPermissionRequest r) {
        Role role = s.roles().get(r.getName());
        if (role == null) {
            throw new RevLogException(RevLogException.Code.ROLE_NOT_FOUND);
        }
        Permission granted = r.getPerm();
        List<Permission> perms = new ArrayList<>(role.getKeyPermissionList());
        // as etcd: only the first permission at or after the key (in key order) is looked at for an update
        int at = 0;
        while (at < perms.size() && compare(perms.get(at).getKey(), granted.getKey()) < 0) {
            at++;
        }
        if (at < perms.size() && perms.get(at).getKey().equals(granted.getKey())
                && perms.get(at).getRangeEnd().equals(granted.getRangeEnd())) {
            perms.set(at, perms.get(at).toBuilder().setPermType(granted.getPermType()).build());
        } else {
            perms.add(Permission.newBuilder().setKey(granted.getKey()).setRangeEnd(granted.getRangeEnd())
                    .setPermType(granted.getPermType()).build());
            perms.sort(Comparator.comparing(Permission::getKey, AuthChanges::compare));
        }
        replaceRole(s, role.toBuilder().clearKeyPermission().addAllKeyPermission(perms).build());
        return AuthRoleGrantPermissionResponse.getDefaultInstance();
    }

    private Message roleRevokePermission(State s, AuthRoleRevokePermissionRequest r) {
        Role role = s.roles().get(r.getRole());
        if (role == null) {
            throw new RevLogException(RevLogException.Code.ROLE_NOT_FOUND);
        }
        List<Permission> perms = new ArrayList<>(role.getKeyPermissionList());
        if (!perms.removeIf(p -> p.getKey().equals(r.getKey()) && p.getRangeEnd().equals(r.getRangeEnd()))) {
            throw new RevLogException(RevLogException.Code.PERMISSION_NOT_GRANTED);
        }
        replaceRole(s, role.toBuilder().clearKeyPermission().addAllKeyPermission(perms).build());
        return AuthRoleRevokePermissionResponse.getDefaultInstance();
    }

    private static int compare(ByteString a, ByteString b) {
        return Arrays.compareUnsigned(a.toByteArray(), b.toByteArray());
    }

    private void replaceUser(State s, User u) {
        NavigableMap<String, User> users = new TreeMap<>(s.users());
        users.put(u.getName().toStringUtf8(), u);
        putUser(u);
        commit(s.enabled(), s.revision(), users, s.roles());
    }

    private void replaceRole(State s, Role r) {
        NavigableMap<String, Role> roles = new TreeMap<>(s.roles());
        roles.put(r.getName().toStringUtf8(), r);
        store.meta.put(txn, key(ROLE_PREFIX, r.getName()), r.toByteArray());
        commit(s.enabled(), s.revision(), s.users(), roles);
    }

    private void putUser(User u) {
        store.meta.put(txn, key(USER_PREFIX, u.getName()), u.toByteArray());
    }

    /** Publishes a changed state one auth revision on (etcd's commitRevision), stored in txn. */
    private void commit(boolean enabled, long revision,
                        NavigableMap<String, User> users, NavigableMap<String, Role> roles) {
        store.putMeta(txn, META_REVISION, revision + 1);
        auth.publish(new State(enabled, revision + 1, new TreeMap<>(users), new TreeMap<>(roles)));
    }
}
