package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.vigil.proto.etcdserverpb.AuthGrpc;
import io.vigil.proto.etcdserverpb.AuthenticateRequest;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.RangeRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Auth on a 3-member cluster: users, roles and the enabled flag go through the log, so what one
 * member is told every member enforces; a simple token issued by one member works on another
 * (every member applied the Authenticate entry); the state survives a restart of every member and
 * a SIGKILL right after a change (the store, or the WAL's replay, holds it). With JWT tokens, a
 * token signed by one member is verified by the others, and a later change to the auth store
 * makes it old, as in etcd.
 */
class AuthClusterTest {
    @TempDir
    Path dir;

    private static Etcdctl.Result as(VigilCluster c, int member, String user, String... args) {
        String[] withUser = new String[args.length + 2];
        withUser[0] = "--user";
        withUser[1] = user;
        System.arraycopy(args, 0, withUser, 2, args.length);
        return Etcdctl.run(c.endpoint(member), null, user == null ? args : withUser);
    }

    private static void ok(Etcdctl.Result r) {
        assertEquals(0, r.exitCode(), r.normalized());
    }

    @Test
    void aUserAddedOnOneMemberWorksOnEveryMemberAndAfterRestarts() throws Exception {
        try (VigilCluster c = VigilCluster.start(dir, 3)) {
            ok(as(c, 0, null, "user", "add", "root:rootpw", "--interactive=false"));
            ok(as(c, 0, null, "role", "add", "ro"));
            ok(as(c, 1, null, "role", "grant-permission", "ro", "read", "/p/", "--prefix"));
            ok(as(c, 2, null, "user", "add", "alice:apw", "--interactive=false"));
            ok(as(c, 0, null, "user", "grant-role", "alice", "ro"));
            ok(as(c, 0, null, "put", "/p/a", "1"));
            ok(as(c, 1, null, "auth", "enable"));
            for (int i = 0; i < 3; i++) {
                assertEquals("1\n", as(c, i, "alice:apw", "get", "/p/a", "--print-value-only").stdout());
                assertTrue(as(c, i, "alice:apw", "put", "/p/a", "2").stderr().contains("etcdserver: permission denied"));
                assertTrue(as(c, i, null, "get", "/p/a").stderr().contains("etcdserver: user name is empty"));
            }
            // a simple token from member 0 is known to member 2 once it applied the entry
            try (ClusterClients clients = new ClusterClients()) {
                ManagedChannel m0 = clients.channel(c.endpoint(0));
                ManagedChannel m2 = clients.channel(c.endpoint(2));
                String token = AuthGrpc.newBlockingStub(m0).authenticate(
                        AuthenticateRequest.newBuilder().setName("alice").setPassword("apw").build()).getToken();
                assertTrue(token.matches("[a-zA-Z]{16}\\.\\d+"), token);
                Metadata md = new Metadata();
                md.put(AuthCalls.TOKEN, token);
                KVGrpc.KVBlockingStub kv2 = KVGrpc.newBlockingStub(m2).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
                await().atMost(Duration.ofSeconds(30)).ignoreExceptionsInstanceOf(StatusRuntimeException.class).until(() ->
                        kv2.withDeadlineAfter(5, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
                                .setKey(CrashRecoveryTest.bytes("/p/a")).build()).getKvsCount() == 1);
                // a password change on member 1 ends the token everywhere
                ok(Etcdctl.run(c.endpoint(1), "newpw\n", "--user", "root:rootpw", "user", "passwd", "alice", "--interactive=false"));
                StatusRuntimeException ended = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class, () ->
                        kv2.withDeadlineAfter(5, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
                                .setKey(CrashRecoveryTest.bytes("/p/a")).build()));
                assertEquals("etcdserver: invalid auth token", ended.getStatus().getDescription());
            }
            assertEquals("1\n", as(c, 2, "alice:newpw", "get", "/p/a", "--print-value-only").stdout());
            ok(as(c, 0, "root:rootpw", "user", "add", "bob:bpw", "--interactive=false"));
            c.kill(0); // right after a change: the WAL replays it
            for (int i = 1; i < 3; i++) {
                c.stop(i);
            }
            for (int i = 0; i < 3; i++) {
                c.startMember(i);
            }
            c.agreedLeader();
            for (int i = 0; i < 3; i++) {
                assertTrue(as(c, i, null, "get", "/p/a").stderr().contains("etcdserver: user name is empty"));
                assertEquals("alice\nbob\nroot\n", as(c, i, "root:rootpw", "user", "list").stdout());
                assertEquals("Role ro\nKV Read:\n\t[/p/, /p0) (prefix /p/)\nKV Write:\n",
                        as(c, i, "root:rootpw", "role", "get", "ro").stdout());
                assertTrue(as(c, i, "alice:apw", "get", "/p/a").stderr().contains("invalid user ID or password"));
                assertEquals("1\n", as(c, i, "alice:newpw", "get", "/p/a", "--print-value-only").stdout());
                assertTrue(as(c, i, "bob:bpw", "get", "/p/a").stderr().contains("etcdserver: permission denied"));
            }
        }
    }

    @Test
    void jwtTokensSignedByOneMemberAreVerifiedByTheOthers() throws Exception {
        Path pub = Files.writeString(dir.resolve("pub.pem"), resource("jwt-rs256-pub.pem"));
        Path priv = Files.writeString(dir.resolve("priv.pem"), resource("jwt-rs256-pkcs1.pem"));
        try (VigilCluster c = VigilCluster.start(dir.resolve("cluster"), 3,
                "--auth-token", "jwt,pub-key=" + pub + ",priv-key=" + priv + ",sign-method=RS256,ttl=10m")) {
            ok(as(c, 0, null, "user", "add", "root:rootpw", "--interactive=false"));
            ok(as(c, 0, null, "auth", "enable"));
            ok(as(c, 0, "root:rootpw", "put", "k", "v"));
            try (ClusterClients clients = new ClusterClients()) {
                ManagedChannel m0 = clients.channel(c.endpoint(0));
                ManagedChannel m1 = clients.channel(c.endpoint(1));
                String token = AuthGrpc.newBlockingStub(m0).authenticate(
                        AuthenticateRequest.newBuilder().setName("root").setPassword("rootpw").build()).getToken();
                assertEquals(3, token.split("\\.").length, token);
                Metadata md = new Metadata();
                md.put(AuthCalls.TOKEN, token);
                KVGrpc.KVBlockingStub kv1 = KVGrpc.newBlockingStub(m1).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
                RangeRequest k = RangeRequest.newBuilder().setKey(CrashRecoveryTest.bytes("k")).build();
                await().atMost(Duration.ofSeconds(30)).ignoreExceptionsInstanceOf(StatusRuntimeException.class)
                        .until(() -> kv1.withDeadlineAfter(5, TimeUnit.SECONDS).range(k).getKvsCount() == 1);
                // a change to the auth store makes the token old (etcd: the client authenticates again)
                ok(as(c, 2, "root:rootpw", "role", "add", "later"));
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try {
                        kv1.withDeadlineAfter(5, TimeUnit.SECONDS).range(k);
                        return false;
                    } catch (StatusRuntimeException e) {
                        return "etcdserver: revision of auth store is old".equals(e.getStatus().getDescription());
                    }
                });
                assertEquals("v\n", as(c, 1, "root:rootpw", "get", "k", "--print-value-only").stdout());
            }
        }
    }

    private static String resource(String name) throws Exception {
        try (var in = AuthClusterTest.class.getResourceAsStream("/" + name)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }
}
