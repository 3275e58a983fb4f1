package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.vigil.proto.authpb.Permission;
import io.vigil.proto.etcdserverpb.AlarmRequest;
import io.vigil.proto.etcdserverpb.AuthGrpc;
import io.vigil.proto.etcdserverpb.AuthEnableRequest;
import io.vigil.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.vigil.proto.etcdserverpb.AuthUserAddRequest;
import io.vigil.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.vigil.proto.etcdserverpb.AuthenticateRequest;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.MemberAddRequest;
import io.vigil.proto.etcdserverpb.MemberPromoteRequest;
import io.vigil.proto.etcdserverpb.MemberRemoveRequest;
import io.vigil.proto.etcdserverpb.MemberUpdateRequest;
import io.vigil.proto.etcdserverpb.MoveLeaderRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.v3electionpb.CampaignRequest;
import io.vigil.proto.v3electionpb.LeaderKey;
import io.vigil.proto.v3electionpb.LeaderRequest;
import io.vigil.proto.v3electionpb.ProclaimRequest;
import io.vigil.proto.v3electionpb.ResignRequest;
import io.vigil.proto.v3lockpb.LockRequest;
import io.vigil.proto.v3lockpb.UnlockRequest;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With auth enabled, every method every client service registers (enumerated from the running
 * member's service definitions, so a method added later is swept too) is called without a token
 * on Vigil and on a real etcd 3.4 in the same state: where etcd refuses the caller (no user,
 * permission denied, invalid token), Vigil refuses with the same status; where etcd serves anyone
 * (Authenticate, Status, MemberList, Alarm, the lease calls that touch no key, Compact, ...),
 * Vigil does not refuse either. The same sweep with a token that names nobody gets etcd's
 * "invalid auth token" wherever etcd looks at the token.
 */
class UnauthenticatedSweepTest {
    private static final Pattern AUTH_REFUSAL = Pattern.compile("user name is empty|permission denied|invalid auth token|user not found");
    private static final ByteString A = ByteString.copyFromUtf8("a");

    @TempDir
    Path tmp;

    /** Requests that mean something (a key, an id); every other method gets its empty request. */
    private static final Map<String, Message> REQUESTS = Map.ofEntries(
            Map.entry("etcdserverpb.KV/Range", RangeRequest.newBuilder().setKey(A).build()),
            Map.entry("etcdserverpb.KV/Put", PutRequest.newBuilder().setKey(A).setValue(A).build()),
            Map.entry("etcdserverpb.KV/DeleteRange", DeleteRangeRequest.newBuilder().setKey(A).build()),
            Map.entry("etcdserverpb.KV/Txn", TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder()
                    .setRequestRange(RangeRequest.newBuilder().setKey(A))).build()),
            Map.entry("etcdserverpb.KV/Compact", CompactionRequest.newBuilder().setRevision(1).build()),
            Map.entry("etcdserverpb.Watch/Watch", WatchRequest.newBuilder().setCreateRequest(
                    WatchCreateRequest.newBuilder().setKey(A)).build()),
            Map.entry("etcdserverpb.Lease/LeaseGrant", LeaseGrantRequest.newBuilder().setTTL(60).build()),
            Map.entry("etcdserverpb.Lease/LeaseRevoke", LeaseRevokeRequest.newBuilder().setID(1).build()),
            Map.entry("etcdserverpb.Lease/LeaseKeepAlive", LeaseKeepAliveRequest.newBuilder().setID(1).build()),
            Map.entry("etcdserverpb.Lease/LeaseTimeToLive", LeaseTimeToLiveRequest.newBuilder().setID(1).build()),
            Map.entry("etcdserverpb.Cluster/MemberAdd", MemberAddRequest.newBuilder().addPeerURLs("http://127.0.0.1:9")
                    .setIsLearner(true).build()),
            Map.entry("etcdserverpb.Cluster/MemberRemove", MemberRemoveRequest.newBuilder().setID(1).build()),
            Map.entry("etcdserverpb.Cluster/MemberUpdate", MemberUpdateRequest.newBuilder().setID(1)
                    .addPeerURLs("http://127.0.0.1:9").build()),
            Map.entry("etcdserverpb.Cluster/MemberPromote", MemberPromoteRequest.newBuilder().setID(1).build()),
            Map.entry("etcdserverpb.Maintenance/Alarm", AlarmRequest.getDefaultInstance()),
            Map.entry("etcdserverpb.Maintenance/MoveLeader", MoveLeaderRequest.newBuilder().setTargetID(1).build()),
            Map.entry("etcdserverpb.Auth/Authenticate", AuthenticateRequest.newBuilder().setName("root").setPassword("pw").build()),
            Map.entry("etcdserverpb.Auth/UserAdd", AuthUserAddRequest.newBuilder().setName("x").setPassword("x").build()),
            Map.entry("v3lockpb.Lock/Lock", LockRequest.newBuilder().setName(A).build()),
            Map.entry("v3lockpb.Lock/Unlock", UnlockRequest.newBuilder().setKey(A).build()),
            Map.entry("v3electionpb.Election/Campaign", CampaignRequest.newBuilder().setName(A).setValue(A).build()),
            Map.entry("v3electionpb.Election/Proclaim", ProclaimRequest.newBuilder().setLeader(LeaderKey.newBuilder()
                    .setName(A).setKey(A)).setValue(A).build()),
            Map.entry("v3electionpb.Election/Leader", LeaderRequest.newBuilder().setName(A).build()),
            Map.entry("v3electionpb.Election/Observe", LeaderRequest.newBuilder().setName(A).build()),
            Map.entry("v3electionpb.Election/Resign", ResignRequest.newBuilder().setLeader(LeaderKey.newBuilder()
                    .setName(A).setKey(A)).build()));

    @Test
    void everyMethodWithoutATokenIsRefusedWhereEtcdRefusesIt() throws Exception {
        ReferenceEtcd.assumeInstalled();
        ServerConfig config = new ServerConfig().dataDir(tmp.resolve("vigil"))
                .listenClientUrls(List.of(URI.create("http://127.0.0.1:0")));
        try (ReferenceEtcd etcd = ReferenceEtcd.start(tmp); VigilServer vigil = VigilServer.start(config, fatal -> { })) {
            try (ClusterClients clients = new ClusterClients()) {
                ManagedChannel etcdCh = clients.channel(etcd.endpoint());
                ManagedChannel vigilCh = clients.channel("127.0.0.1:" + vigil.clientAddresses().get(0).getPort());
                enableAuth(etcdCh);
                enableAuth(vigilCh);
                List<String> refused = new ArrayList<>();
                List<String> mismatches = new ArrayList<>();
                for (String token : new String[] {null, "forged.1"}) {
                    for (ServerServiceDefinition service : vigil.clientServices()) {
                        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
                            MethodDescriptor<?, ?> d = m.getMethodDescriptor();
                            String expected = call(etcdCh, d, token);
                            String actual = call(vigilCh, d, token);
                            boolean etcdRefuses = AUTH_REFUSAL.matcher(expected).find();
                            boolean vigilRefuses = AUTH_REFUSAL.matcher(actual).find();
                            if (etcdRefuses ? !expected.equals(actual) : vigilRefuses) {
                                mismatches.add((token == null ? "no token: " : "token " + token + ": ") + d.getFullMethodName()
                                        + "\n  etcd:  " + expected + "\n  vigil: " + actual);
                            }
                            if (token == null && vigilRefuses) {
                                refused.add(d.getFullMethodName());
                            }
                        }
                    }
                }
                assertEquals("", String.join("\n", mismatches));
                // the sweep reached every service: the KV, watch, auth, cluster, maintenance, lock and election calls etcd guards
                for (String m : List.of("etcdserverpb.KV/Range", "etcdserverpb.KV/Put", "etcdserverpb.KV/Txn",
                        "etcdserverpb.Watch/Watch", "etcdserverpb.Auth/UserAdd", "etcdserverpb.Auth/AuthDisable",
                        "etcdserverpb.Cluster/MemberAdd", "etcdserverpb.Maintenance/Snapshot",
                        "etcdserverpb.Maintenance/Defragment", "v3lockpb.Lock/Lock", "v3electionpb.Election/Campaign")) {
                    assertTrue(refused.contains(m), m + " was not refused; refused: " + refused);
                }
            }
        }
    }

    /** root with the root role, and a role that may read "a", then auth on. */
    private static void enableAuth(ManagedChannel ch) {
        AuthGrpc.AuthBlockingStub auth = AuthGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
        auth.userAdd(AuthUserAddRequest.newBuilder().setName("root").setPassword("rootpw").build());
        auth.userGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("root").setRole("root").build());
        auth.roleAdd(io.vigil.proto.etcdserverpb.AuthRoleAddRequest.newBuilder().setName("reader").build());
        auth.roleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName("reader")
                .setPerm(Permission.newBuilder().setKey(A).setPermType(Permission.Type.READ)).build());
        auth.authEnable(AuthEnableRequest.getDefaultInstance());
    }

    /**
     * Calls {@code method} with its request (see {@link #REQUESTS}) and, for streams, the first
     * message only; describes how it ended or what came first: "status CODE description",
     * "response ..." (a watch's cancel reason included), or "no answer" while it keeps waiting.
     */
    private static String call(ManagedChannel ch, MethodDescriptor<?, ?> server, String token) throws Exception {
        // the served marshaller decodes leniently (EtcdDecoding); the schema still names the request type
        Message request = REQUESTS.getOrDefault(server.getFullMethodName(), DynamicMessage.getDefaultInstance(
                ((ProtoMethodDescriptorSupplier) server.getSchemaDescriptor()).getMethodDescriptor().getInputType()));
        MethodDescriptor<byte[], byte[]> d = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(server.getType()).setFullMethodName(server.getFullMethodName())
                .setRequestMarshaller(WireFuzzTest.BYTES)
                .setResponseMarshaller(WireFuzzTest.BYTES).build();
        ClientCall<byte[], byte[]> call = ch.newCall(d, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS));
        CompletableFuture<String> first = new CompletableFuture<>();
        Metadata md = new Metadata();
        if (token != null) {
            md.put(AuthCalls.TOKEN, token);
        }
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                first.complete("response" + (server.getFullMethodName().equals("etcdserverpb.Watch/Watch")
                        ? " " + watchReason(message) : ""));
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                first.complete("status " + status.getCode() + " " + status.getDescription());
            }
        }, md);
        call.request(1);
        call.sendMessage(request.toByteArray());
        if (server.getType() == MethodDescriptor.MethodType.UNARY || server.getType() == MethodDescriptor.MethodType.SERVER_STREAMING) {
            call.halfClose();
        }
        String outcome;
        try {
            outcome = first.get(25, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException waiting) {
            outcome = "no answer";
        }
        call.cancel("swept", null);
        return outcome;
    }

    private static String watchReason(byte[] message) {
        try {
            return new TreeMap<>(Map.of("cancel_reason", WatchResponse.parseFrom(message).getCancelReason())).toString();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
