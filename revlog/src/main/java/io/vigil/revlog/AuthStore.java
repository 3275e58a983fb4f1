package io.vigil.revlog;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
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
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.internal.AuthHeader;
import io.vigil.proto.internal.AuthRequest;
import io.vigil.proto.internal.InternalRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.KeyRange;
import org.lmdbjava.Txn;

/**
 * etcd's auth store: users, roles and their key permissions, whether auth is enabled, and the
 * auth revision (bumped by every change, so a token checked at an older revision is refused as
 * "revision of auth store is old"). Changed only by auth entries of the log, on every member
 * alike, in the store's LMDB transaction of the entry, so it outlives restarts and travels in
 * snapshots and backups. It lives in the {@code meta} database: the flag and the revision under
 * their names, each user under {@code "authUser/" + name} and each role under
 * {@code "authRole/" + name} ({@link User} and {@link Role}). Not in databases of its own: a
 * store that never uses auth keeps exactly the pages it had (space quotas are tight).
 *
 * <p>Permission checks follow etcd 3.4: writes (put, delete, txn, lease revoke) and auth requests
 * are checked here when applied, against the caller named in the entry's {@link AuthHeader}
 * (etcd's authApplierV3); reads are checked by the server before it reads, with the same methods.
 * An entry without a header is the member's own (lease expiry, alarms, checkpoints) and is not
 * checked. With auth disabled nothing is checked.
 *
 * <p>Threads: changed by the apply thread; read from any thread (the state is an immutable
 * snapshot replaced whole, with its own cache of merged permissions).
 */
public final class AuthStore {
    static final String META_ENABLED = "authEnabled";
    static final String META_REVISION = "authRevision";
    static final String ROOT = "root";
    private static final String USER_PREFIX = "authUser/";
    private static final String ROLE_PREFIX = "authRole/";
    /** LMDB refuses keys above 511 bytes; names longer than this are refused (etcd has no limit). */
    static final int MAX_NAME_BYTES = 400;

    /** One auth state; {@code permissions} caches each user's merged permissions in it. */
    private record State(boolean enabled, long revision, NavigableMap<String, User> users,
                         NavigableMap<String, Role> roles, Map<String, RangePermissions> permissions) {
        State(boolean enabled, long revision, NavigableMap<String, User> users, NavigableMap<String, Role> roles) {
            this(enabled, revision, Collections.unmodifiableNavigableMap(users),
                    Collections.unmodifiableNavigableMap(roles), new ConcurrentHashMap<>());
        }
    }

    private volatile State state;
    private volatile AuthTokens tokens = AuthTokens.NONE;

    private AuthStore(State state) {
        this.state = state;
    }

    static AuthStore load(LmdbStore store, Txn<byte[]> txn) {
        return new AuthStore(read(store, txn));
    }

    /** Reads the state again from what txn holds (the store rolled back to what it committed). */
    void reload(LmdbStore store, Txn<byte[]> txn) {
        state = read(store, txn);
    }

    private static State read(LmdbStore store, Txn<byte[]> txn) {
        NavigableMap<String, User> users = new TreeMap<>();
        NavigableMap<String, Role> roles = new TreeMap<>();
        try {
            for (byte[] v : values(store, txn, USER_PREFIX)) {
                User u = User.parseFrom(v);
                users.put(u.getName().toStringUtf8(), u);
            }
            for (byte[] v : values(store, txn, ROLE_PREFIX)) {
                Role r = Role.parseFrom(v);
                roles.put(r.getName().toStringUtf8(), r);
            }
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("corrupt auth record", e);
        }
        // etcd's store starts at auth revision 1
        return new State(store.getMeta(txn, META_ENABLED, 0) == 1, store.getMeta(txn, META_REVISION, 1), users, roles);
    }

    /** The values of the {@code meta} keys that start with {@code prefix}. */
    private static List<byte[]> values(LmdbStore store, Txn<byte[]> txn, String prefix) {
        byte[] from = prefix.getBytes(StandardCharsets.UTF_8);
        byte[] to = Arrays.copyOf(from, from.length);
        to[to.length - 1]++; // the prefixes end in '/', so this is the prefix's end
        List<byte[]> out = new ArrayList<>();
        try (CursorIterable<byte[]> all = store.meta.iterate(txn, KeyRange.closedOpen(from, to))) {
            for (CursorIterable.KeyVal<byte[]> r : all) {
                out.add(r.val());
            }
        }
        return out;
    }

    private static byte[] key(String prefix, ByteString name) {
        return ByteString.copyFromUtf8(prefix).concat(name).toByteArray();
    }

    private static void checkNameLength(String name) {
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new RevLogException(RevLogException.Code.INVALID_AUTH_MGMT);
        }
    }

    /**
     * From now on {@code tokens} is told of authentications, deleted users and auth switched on
     * or off; told at once that auth is enabled if it is. Before the first entry is applied.
     */
    public void tokens(AuthTokens tokens) {
        this.tokens = tokens;
        if (state.enabled()) {
            tokens.enable();
        }
    }

    public boolean isEnabled() {
        return state.enabled();
    }

    /** The auth revision. Any thread. */
    public long revision() {
        return state.revision();
    }

    /** The user named {@code name}, or null. Any thread. */
    public User user(String name) {
        return state.users().get(name);
    }

    // ---- checks (any thread) ----

    /**
     * etcd's isOpPermitted: refuses {@code caller} (null: the member itself, always permitted)
     * a READ or WRITE of the key or range, as etcd's messages say.
     */
    public void checkOp(AuthHeader caller, Permission.Type type, ByteString key, ByteString rangeEnd) {
        State s = state;
        if (caller == null || !s.enabled()) {
            return;
        }
        if (caller.getAuthRevision() == 0) {
            throw new RevLogException(RevLogException.Code.USER_EMPTY);
        }
        if (caller.getAuthRevision() < s.revision()) {
            throw new RevLogException(RevLogException.Code.AUTH_OLD_REVISION);
        }
        User u = s.users().get(caller.getUsername());
        if (u == null) {
            throw new RevLogException(RevLogException.Code.PERMISSION_DENIED);
        }
        if (hasRoot(u)) {
            return;
        }
        if (!permissions(s, u).permits(type, key.toByteArray(), rangeEnd.toByteArray())) {
            throw new RevLogException(RevLogException.Code.PERMISSION_DENIED);
        }
    }

    public void checkRange(AuthHeader caller, ByteString key, ByteString rangeEnd) {
        checkOp(caller, Permission.Type.READ, key, rangeEnd);
    }

    /**
     * etcd's checkTxnAuth: read on every compare and every range, write on every put and delete
     * (and read on a delete with prev_kv), in both branches; unlike etcd 3.4, nested txns too.
     */
    public void checkTxn(AuthHeader caller, TxnRequest txn) {
        if (caller == null || !state.enabled()) {
            return;
        }
        for (var c : txn.getCompareList()) {
            checkRange(caller, c.getKey(), c.getRangeEnd());
        }
        checkOps(caller, txn.getSuccessList());
        checkOps(caller, txn.getFailureList());
    }

    private void checkOps(AuthHeader caller, List<RequestOp> ops) {
        for (RequestOp op : ops) {
            switch (op.getRequestCase()) {
                case REQUEST_RANGE -> checkRange(caller, op.getRequestRange().getKey(), op.getRequestRange().getRangeEnd());
                case REQUEST_PUT -> checkOp(caller, Permission.Type.WRITE, op.getRequestPut().getKey(), ByteString.EMPTY);
                case REQUEST_DELETE_RANGE -> {
                    DeleteRangeRequest d = op.getRequestDeleteRange();
                    if (d.getPrevKv()) {
                        checkRange(caller, d.getKey(), d.getRangeEnd());
                    }
                    checkOp(caller, Permission.Type.WRITE, d.getKey(), d.getRangeEnd());
                }
                case REQUEST_TXN -> checkTxn(caller, op.getRequestTxn());
                default -> {
                }
            }
        }
    }

    /**
     * etcd's IsAdminPermitted: with auth enabled, only a user with the root role. A caller of
     * null is the member itself.
     */
    public void checkAdmin(AuthHeader caller) {
        State s = state;
        if (caller == null || !s.enabled()) {
            return;
        }
        if (caller.getUsername().isEmpty()) {
            throw new RevLogException(RevLogException.Code.USER_EMPTY);
        }
        User u = s.users().get(caller.getUsername());
        if (u == null) {
            throw new RevLogException(RevLogException.Code.USER_NOT_FOUND);
        }
        if (!hasRoot(u)) {
            throw new RevLogException(RevLogException.Code.PERMISSION_DENIED);
        }
    }

    private static RangePermissions permissions(State s, User u) {
        return s.permissions().computeIfAbsent(u.getName().toStringUtf8(), name -> {
            List<Permission> all = new ArrayList<>();
            for (String roleName : u.getRolesList()) {
                Role r = s.roles().get(roleName);
                if (r != null) {
                    all.addAll(r.getKeyPermissionList());
                }
            }
            return RangePermissions.of(all);
        });
    }

    private static boolean hasRoot(User u) {
        return u.getRolesList().contains(ROOT);
    }

    /**
     * Why the caller of a KV or lease entry may not do it (etcd's authApplierV3), or null. Puts and
     * lease revokes also need write permission on every key already attached to the lease: who
     * cannot write them cannot revoke it, so may not attach more either.
     */
    RevLogException refusal(InternalRequest request, Lessor lessor) {
        if (!request.hasHeader() || !state.enabled()) {
            return null;
        }
        AuthHeader caller = request.getHeader();
        try {
            switch (request.getRequestCase()) {
                case PUT -> {
                    PutRequest p = request.getPut();
                    checkOp(caller, Permission.Type.WRITE, p.getKey(), ByteString.EMPTY);
                    checkLeaseKeys(caller, lessor, p.getLease());
                    if (p.getPrevKv()) {
                        checkRange(caller, p.getKey(), ByteString.EMPTY);
                    }
                }
                case DELETE_RANGE -> {
                    DeleteRangeRequest d = request.getDeleteRange();
                    checkOp(caller, Permission.Type.WRITE, d.getKey(), d.getRangeEnd());
                    if (d.getPrevKv()) {
                        checkRange(caller, d.getKey(), d.getRangeEnd());
                    }
                }
                case TXN -> checkTxn(caller, request.getTxn());
                case LEASE_REVOKE -> checkLeaseKeys(caller, lessor, request.getLeaseRevoke().getID());
                default -> {
                }
            }
        } catch (RevLogException refused) {
            return refused;
        }
        return null;
    }

    private void checkLeaseKeys(AuthHeader caller, Lessor lessor, long lease) {
        if (lease == 0) {
            return;
        }
        var ttl = lessor.timeToLive(lease, true);
        if (ttl.isPresent()) {
            for (ByteString key : ttl.get().keys()) {
                checkOp(caller, Permission.Type.WRITE, key, ByteString.EMPTY);
            }
        }
    }

    // ---- apply (apply thread) ----

    /**
     * Applies an auth request of the log entry {@code index} as etcd's auth store does, after the
     * admin check etcd's authApplierV3 makes (a user may get itself and the roles it has). A
     * missing header is an unauthenticated caller here: auth requests always come from clients.
     *
     * @throws RevLogException the request is refused; nothing was written
     */
    Message apply(LmdbStore store, Txn<byte[]> txn, AuthRequest request, AuthHeader header, long index) {
        AuthHeader caller = header == null ? AuthHeader.getDefaultInstance() : header;
        State s = state;
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
            default -> checkAdmin(caller);
        }
        return switch (request.getRequestCase()) {
            case ENABLE -> enable(store, txn, s);
            case DISABLE -> disable(store, txn, s);
            case USER_ADD -> userAdd(store, txn, s, request.getUserAdd());
            case USER_DELETE -> userDelete(store, txn, s, request.getUserDelete().getName());
            case USER_CHANGE_PASSWORD -> userChangePassword(store, txn, s, request.getUserChangePassword().getName(),
                    request.getUserChangePassword().getHashedPassword());
            case USER_GRANT_ROLE -> userGrantRole(store, txn, s, request.getUserGrantRole());
            case USER_REVOKE_ROLE -> userRevokeRole(store, txn, s, request.getUserRevokeRole());
            case USER_LIST -> AuthUserListResponse.newBuilder().addAllUsers(s.users().keySet()).build();
            case ROLE_ADD -> roleAdd(store, txn, s, request.getRoleAdd());
            case ROLE_DELETE -> roleDelete(store, txn, s, request.getRoleDelete().getRole());
            case ROLE_GRANT_PERMISSION -> roleGrantPermission(store, txn, s, request.getRoleGrantPermission());
            case ROLE_REVOKE_PERMISSION -> roleRevokePermission(store, txn, s, request.getRoleRevokePermission());
            case ROLE_LIST -> AuthRoleListResponse.newBuilder().addAllRoles(s.roles().keySet()).build();
            default -> throw new IllegalArgumentException("auth entry " + index + " holds no request");
        };
    }

    private void checkAdminUnless(AuthHeader caller, boolean allowed) {
        if (!allowed) {
            checkAdmin(caller);
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
        return AuthenticateResponse.newBuilder().setToken(tokens.assign(name, s.revision(), simpleTokenPrefix, index)).build();
    }

    private Message enable(LmdbStore store, Txn<byte[]> txn, State s) {
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
        state = new State(true, s.revision(), new TreeMap<>(s.users()), new TreeMap<>(s.roles()));
        tokens.enable();
        return AuthEnableResponse.getDefaultInstance();
    }

    private Message disable(LmdbStore store, Txn<byte[]> txn, State s) {
        if (!s.enabled()) {
            return AuthDisableResponse.getDefaultInstance();
        }
        store.putMeta(txn, META_ENABLED, 0);
        commit(store, txn, false, s.revision(), s.users(), s.roles());
        tokens.disable();
        return AuthDisableResponse.getDefaultInstance();
    }

    private Message userAdd(LmdbStore store, Txn<byte[]> txn, State s, AuthUserAddRequest r) {
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
        putUser(store, txn, u.build());
        commit(store, txn, s.enabled(), s.revision(), users, s.roles());
        return AuthUserAddResponse.getDefaultInstance();
    }

    private Message userDelete(LmdbStore store, Txn<byte[]> txn, State s, String name) {
        if (s.enabled() && name.equals(ROOT)) {
            throw new RevLogException(RevLogException.Code.INVALID_AUTH_MGMT);
        }
        if (!s.users().containsKey(name)) {
            throw new RevLogException(RevLogException.Code.USER_NOT_FOUND);
        }
        NavigableMap<String, User> users = new TreeMap<>(s.users());
        users.remove(name);
        store.meta.delete(txn, key(USER_PREFIX, ByteString.copyFromUtf8(name)));
        commit(store, txn, s.enabled(), s.revision(), users, s.roles());
        tokens.invalidateUser(name);
        return AuthUserDeleteResponse.getDefaultInstance();
    }

    private Message userChangePassword(LmdbStore store, Txn<byte[]> txn, State s, String name, String hashed) {
        User u = s.users().get(name);
        if (u == null) {
            throw new RevLogException(RevLogException.Code.USER_NOT_FOUND);
        }
        User changed = u.toBuilder().setPassword(ByteString.copyFromUtf8(hashed)).build();
        replaceUser(store, txn, s, changed);
        tokens.invalidateUser(name);
        return AuthUserChangePasswordResponse.getDefaultInstance();
    }

    private Message userGrantRole(LmdbStore store, Txn<byte[]> txn, State s, AuthUserGrantRoleRequest r) {
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
        replaceUser(store, txn, s, u.toBuilder().clearRoles().addAllRoles(roles).build());
        return AuthUserGrantRoleResponse.getDefaultInstance();
    }

    private Message userRevokeRole(LmdbStore store, Txn<byte[]> txn, State s, AuthUserRevokeRoleRequest r) {
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
        replaceUser(store, txn, s, u.toBuilder().clearRoles().addAllRoles(roles).build());
        return AuthUserRevokeRoleResponse.getDefaultInstance();
    }

    private Message roleAdd(LmdbStore store, Txn<byte[]> txn, State s, AuthRoleAddRequest r) {
        if (r.getName().isEmpty()) {
            throw new RevLogException(RevLogException.Code.ROLE_EMPTY);
        }
        if (s.roles().containsKey(r.getName())) {
            throw new RevLogException(RevLogException.Code.ROLE_ALREADY_EXIST);
        }
        checkNameLength(r.getName());
        replaceRole(store, txn, s, Role.newBuilder().setName(ByteString.copyFromUtf8(r.getName())).build());
        return AuthRoleAddResponse.getDefaultInstance();
    }

    private Message roleDelete(LmdbStore store, Txn<byte[]> txn, State s, String role) {
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
                putUser(store, txn, changed);
            }
        }
        commit(store, txn, s.enabled(), s.revision(), users, roles);
        return AuthRoleDeleteResponse.getDefaultInstance();
    }

    private Message roleGrantPermission(LmdbStore store, Txn<byte[]> txn, State s, AuthRoleGrantPermissionRequest r) {
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
            perms.sort(Comparator.comparing(Permission::getKey, AuthStore::compare));
        }
        replaceRole(store, txn, s, role.toBuilder().clearKeyPermission().addAllKeyPermission(perms).build());
        return AuthRoleGrantPermissionResponse.getDefaultInstance();
    }

    private Message roleRevokePermission(LmdbStore store, Txn<byte[]> txn, State s, AuthRoleRevokePermissionRequest r) {
        Role role = s.roles().get(r.getRole());
        if (role == null) {
            throw new RevLogException(RevLogException.Code.ROLE_NOT_FOUND);
        }
        List<Permission> perms = new ArrayList<>(role.getKeyPermissionList());
        if (!perms.removeIf(p -> p.getKey().equals(r.getKey()) && p.getRangeEnd().equals(r.getRangeEnd()))) {
            throw new RevLogException(RevLogException.Code.PERMISSION_NOT_GRANTED);
        }
        replaceRole(store, txn, s, role.toBuilder().clearKeyPermission().addAllKeyPermission(perms).build());
        return AuthRoleRevokePermissionResponse.getDefaultInstance();
    }

    private static int compare(ByteString a, ByteString b) {
        return Arrays.compareUnsigned(a.toByteArray(), b.toByteArray());
    }

    private void replaceUser(LmdbStore store, Txn<byte[]> txn, State s, User u) {
        NavigableMap<String, User> users = new TreeMap<>(s.users());
        users.put(u.getName().toStringUtf8(), u);
        putUser(store, txn, u);
        commit(store, txn, s.enabled(), s.revision(), users, s.roles());
    }

    private void replaceRole(LmdbStore store, Txn<byte[]> txn, State s, Role r) {
        NavigableMap<String, Role> roles = new TreeMap<>(s.roles());
        roles.put(r.getName().toStringUtf8(), r);
        store.meta.put(txn, key(ROLE_PREFIX, r.getName()), r.toByteArray());
        commit(store, txn, s.enabled(), s.revision(), s.users(), roles);
    }

    private static void putUser(LmdbStore store, Txn<byte[]> txn, User u) {
        store.meta.put(txn, key(USER_PREFIX, u.getName()), u.toByteArray());
    }

    /** Publishes a changed state one auth revision on (etcd's commitRevision), stored in txn. */
    private void commit(LmdbStore store, Txn<byte[]> txn, boolean enabled, long revision,
                        NavigableMap<String, User> users, NavigableMap<String, Role> roles) {
        store.putMeta(txn, META_REVISION, revision + 1);
        state = new State(enabled, revision + 1, new TreeMap<>(users), new TreeMap<>(roles));
    }
}
