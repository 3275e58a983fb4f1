package io.vigil.benchmarks.server;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.vigil.proto.authpb.Permission;
import io.vigil.proto.etcdserverpb.AuthEnableRequest;
import io.vigil.proto.etcdserverpb.AuthGrpc;
import io.vigil.proto.etcdserverpb.AuthRoleAddRequest;
import io.vigil.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.vigil.proto.etcdserverpb.AuthUserAddRequest;
import io.vigil.proto.etcdserverpb.AuthUserGrantRoleRequest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Turns etcd's auth on through the API, as {@code etcdctl user add root; role add root; user
 * grant-role root root; auth enable} does, with one non-root user whose only role may read and
 * write one key range (the harness: the keys under {@link #PREFIX}; etcd's Go load generator,
 * whose keys are binary: every key, from "\0" on): every benchmark request then pays a token lookup and a
 * permission check, and nothing is allowed because it is root's.
 */
public final class AuthSetup {
  public static final String ROOT = "root";
  public static final String USER = "bench";
  /** Every key the harness writes is under it ({@code vb/<run>/<scenario>/...}). */
  public static final String PREFIX = "vb/";

  private AuthSetup() {}

  /** The bench user may read and write {@code [key, rangeEnd)} ({@link #prefixEnd} for a prefix). */
  public static void enable(Channel channel, String password, ByteString key, ByteString rangeEnd, long rpcTimeoutMs) {
    AuthGrpc.AuthBlockingStub auth = AuthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(Math.max(rpcTimeoutMs, 30_000), TimeUnit.MILLISECONDS);
    auth.userAdd(AuthUserAddRequest.newBuilder().setName(ROOT).setPassword(password).build());
    auth.roleAdd(AuthRoleAddRequest.newBuilder().setName(ROOT).build());
    auth.userGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser(ROOT).setRole(ROOT).build());
    auth.userAdd(AuthUserAddRequest.newBuilder().setName(USER).setPassword(password).build());
    auth.roleAdd(AuthRoleAddRequest.newBuilder().setName(USER).build());
    auth.roleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName(USER)
        .setPerm(Permission.newBuilder().setPermType(Permission.Type.READWRITE)
            .setKey(key)
            .setRangeEnd(rangeEnd))
        .build());
    auth.userGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser(USER).setRole(USER).build());
    auth.authEnable(AuthEnableRequest.getDefaultInstance());
  }

  /** etcd's prefix range end: the prefix with its last byte incremented (ASCII prefixes only). */
  public static ByteString prefixEnd(String prefix) {
    byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
    end[end.length - 1]++;
    return ByteString.copyFrom(end);
  }
}
