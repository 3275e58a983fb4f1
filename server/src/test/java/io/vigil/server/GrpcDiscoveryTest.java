package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC discovery on the client port, with grpc-java's own clients (what grpcurl does): server
 * reflection lists every service and describes one from the proto files the server carries (v1
 * and v1alpha); the standard health service reports per service, and tells a watcher
 * NOT_SERVING when the member stops.
 */
class GrpcDiscoveryTest {
    @TempDir
    Path tmp;

    private static final Set<String> ETCD_SERVICES = Set.of("etcdserverpb.KV", "etcdserverpb.Watch", "etcdserverpb.Lease",
            "etcdserverpb.Cluster", "etcdserverpb.Maintenance", "etcdserverpb.Auth", "v3lockpb.Lock",
            "v3electionpb.Election");

    private VigilServer start() {
        return VigilServer.start(new ServerConfig().dataDir(tmp.resolve("data"))
                .listenClientUrls(List.of(URI.create("http://127.0.0.1:0"))), fatal -> { });
    }

    private static ServerReflectionResponse reflect(ManagedChannel ch, ServerReflectionRequest request) throws InterruptedException {
        CollectingObserver<ServerReflectionResponse> responses = new CollectingObserver<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(ch).serverReflectionInfo(responses);
        requests.onNext(request);
        requests.onCompleted();
        Object first = responses.next();
        return assertInstanceOf(ServerReflectionResponse.class, first);
    }

    @Test
    void reflectionListsAndDescribesServices() throws Exception {
        try (VigilServer server = start(); ClusterClients clients = new ClusterClients()) {
            ManagedChannel ch = clients.channel("127.0.0.1:" + server.clientAddresses().get(0).getPort());
            Set<String> listed = new TreeSet<>();
            for (ServiceResponse s : reflect(ch, ServerReflectionRequest.newBuilder().setListServices("").build())
                    .getListServicesResponse().getServiceList()) {
                listed.add(s.getName());
            }
            assertTrue(listed.containsAll(ETCD_SERVICES), listed.toString());
            assertTrue(listed.containsAll(GrpcDiscovery.SERVICES), listed.toString());

            // describe: the file that defines the KV service, and in it Range's types
            ServerReflectionResponse file = reflect(ch, ServerReflectionRequest.newBuilder()
                    .setFileContainingSymbol("etcdserverpb.KV").build());
            List<ByteString> protos = file.getFileDescriptorResponse().getFileDescriptorProtoList();
            assertTrue(!protos.isEmpty(), file.toString());
            FileDescriptorProto rpc = FileDescriptorProto.parseFrom(protos.get(0));
            ServiceDescriptorProto kv = rpc.getServiceList().stream().filter(s -> s.getName().equals("KV")).findFirst().orElseThrow();
            MethodDescriptorProto range = kv.getMethodList().stream().filter(m -> m.getName().equals("Range")).findFirst().orElseThrow();
            assertEquals(".etcdserverpb.RangeRequest", range.getInputType());
            assertEquals(".etcdserverpb.RangeResponse", range.getOutputType());
            // the Watch service is built by hand (its responses are pre-encoded): it is described too
            assertTrue(reflect(ch, ServerReflectionRequest.newBuilder().setFileContainingSymbol("etcdserverpb.Watch").build())
                    .getFileDescriptorResponse().getFileDescriptorProtoCount() > 0, "Watch described");

            // v1alpha, which older grpcurl builds ask
            var alpha = io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(ch);
            CollectingObserver<io.grpc.reflection.v1alpha.ServerReflectionResponse> out = new CollectingObserver<>();
            var in = alpha.serverReflectionInfo(out);
            in.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("").build());
            in.onCompleted();
            var listedAlpha = assertInstanceOf(io.grpc.reflection.v1alpha.ServerReflectionResponse.class,
                    out.next());
            assertTrue(listedAlpha.getListServicesResponse().getServiceList().stream()
                    .anyMatch(s -> s.getName().equals("etcdserverpb.KV")), listedAlpha.toString());
        }
    }

    @Test
    void healthReportsEachServiceAndNotServingAtStop() throws Exception {
        try (ClusterClients clients = new ClusterClients()) {
            VigilServer server = start();
            try {
                healthUntilStop(server, clients);
            } finally {
                server.close();
            }
        }
    }

    private static void healthUntilStop(VigilServer server, ClusterClients clients) throws InterruptedException {
        ManagedChannel ch = clients.channel("127.0.0.1:" + server.clientAddresses().get(0).getPort());
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(ch);
        // a member alone elects itself soon after it starts; the statuses follow
        org.awaitility.Awaitility.await().atMost(ClusterClients.PATIENCE).until(() -> health.check(
                HealthCheckRequest.newBuilder().setService("").build()).getStatus() == ServingStatus.SERVING);
        for (String service : List.of("", "etcdserverpb.KV", "etcdserverpb.Watch", "etcdserverpb.Lease")) {
            assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.newBuilder().setService(service).build())
                    .getStatus(), service);
        }
        StatusRuntimeException unknown = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                () -> health.check(HealthCheckRequest.newBuilder().setService("no.Such").build()));
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());

        CollectingObserver<HealthCheckResponse> watch = new CollectingObserver<>();
        HealthGrpc.newStub(ch).watch(HealthCheckRequest.newBuilder().setService("etcdserverpb.KV").build(), watch);
        assertEquals(ServingStatus.SERVING, ((HealthCheckResponse) watch.next()).getStatus());
        server.close();
        assertEquals(ServingStatus.NOT_SERVING, ((HealthCheckResponse) watch.next()).getStatus());
    }

    @Test
    void withoutALeaderTheServicesThatNeedOneAreNotServing() throws Exception {
        // one member of three, alone: it can elect no leader; watches and status it serves still
        try (VigilCluster c = VigilCluster.unstarted(tmp, 3); ClusterClients clients = new ClusterClients()) {
            c.startMember(0);
            HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(clients.channel(c.endpoint(0)));
            for (String service : List.of("", "etcdserverpb.KV", "etcdserverpb.Lease", "etcdserverpb.Auth")) {
                assertEquals(ServingStatus.NOT_SERVING, health.check(HealthCheckRequest.newBuilder().setService(service).build())
                        .getStatus(), service);
            }
            for (String service : List.of("etcdserverpb.Watch", "etcdserverpb.Maintenance")) {
                assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.newBuilder().setService(service).build())
                        .getStatus(), service);
            }
        }
    }
}
