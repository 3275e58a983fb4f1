package io.vigil.revlog;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.vigil.proto.authpb.Permission;
import io.vigil.proto.authpb.Role;
import io.vigil.proto.authpb.User;
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
 * "revision of auth store is old"). Changed only by auth entries of the log ({@link AuthChanges}),
 * on every member alike, in the store's LMDB transaction of the entry, so it outlives restarts and travels in
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
    static final String USER_PREFIX = "authUser/";
    static final String ROLE_PREFIX = "authRole/";
    /** LMDB refuses keys above 511 bytes; names longer than this are refused (etcd has no limit). */
    static final int MAX_NAME_BYTES = 400;

    /** One auth state; {@code permissions} caches each user's merged permissions in it. */
    record State(boolean enabled, long revision, NavigableMap<String, User> users,
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

    static byte[] key(String prefix, ByteString name) {
        return ByteString.copyFromUtf8(prefix).concat(name).toByteArray();
    }

    static void checkNameLength(String name) {
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

    static boolean hasRoot(User u) {
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
     * Applies an auth request of the log entry {@code index} ({@link AuthChanges}).
     *
     * @throws RevLogException the request is refused; nothing was written
     */
    Message apply(LmdbStore store, Txn<byte[]> txn, AuthRequest request, AuthHeader header, long index) {
        return new AuthChanges(this, store, txn).apply(request, header, index);
    }

    /** The current state. Any thread; changed by {@link #publish} only. */
    State state() {
        return state;
    }

    /** Makes {@code changed} the state every reader sees (apply thread, after writing it to the entry's txn). */
    void publish(State changed) {
        state = changed;
    }

    AuthTokens tokens() {
        return tokens;
    }
}
