package io.vigil.server;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.vigil.proto.etcdserverpb.AuthGrpc;
import io.vigil.proto.etcdserverpb.ClusterGrpc;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.v3electionpb.ElectionGrpc;
import io.vigil.proto.v3lockpb.LockGrpc;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * etcd 3.4's grpc-gateway paths, each mapped to the gRPC method it calls. The paths are read from
 * the {@code google.api.http} options of the proto files (rpc.proto, v3lock.proto,
 * v3election.proto), where they are written once: each is {@code POST} with the whole body as
 * the request, a method's additional bindings are further paths to it. etcd 3.4 serves each path
 * under {@code /v3/} and, deprecated, under {@code /v3beta/}.
 *
 * <p>Methods etcd 3.4 has no path for (HashKV, whose path in etcd's rpc.proto is Hash's, as its
 * gateway calls Hash there; Downgrade, AuthStatus) carry no option. A path given twice, or a
 * rule other than a {@code POST} of body {@code "*"} under {@code /v3/}, fails class
 * initialization: the gateway serves nothing else.
 */
final class GatewayRoutes {
    /** The services with gateway paths, in etcd's order. */
    private static final List<ServiceDescriptor> SERVICES = List.of(KVGrpc.getServiceDescriptor(),
            WatchGrpc.getServiceDescriptor(), LeaseGrpc.getServiceDescriptor(), ClusterGrpc.getServiceDescriptor(),
            MaintenanceGrpc.getServiceDescriptor(), AuthGrpc.getServiceDescriptor(), LockGrpc.getServiceDescriptor(),
            ElectionGrpc.getServiceDescriptor());
    private static final Map<String, MethodDescriptor<?, ?>> BY_PATH = table();

    private GatewayRoutes() {
    }

    /** The method served at {@code path} (without query), or null. */
    static MethodDescriptor<?, ?> method(String path) {
        if (path.startsWith("/v3beta/")) {
            path = "/v3/" + path.substring("/v3beta/".length());
        }
        return BY_PATH.get(path);
    }

    /** Every path under /v3/, in etcd's order (services, their methods, then bindings), and its method. */
    static Map<String, MethodDescriptor<?, ?>> all() {
        return BY_PATH;
    }

    /** The proto declaration of a gateway method (its types, options and streaming). */
    static Descriptors.MethodDescriptor proto(MethodDescriptor<?, ?> method) {
        return ((ProtoMethodDescriptorSupplier) method.getSchemaDescriptor()).getMethodDescriptor();
    }

    private static Map<String, MethodDescriptor<?, ?>> table() {
        Map<String, MethodDescriptor<?, ?>> t = new LinkedHashMap<>();
        for (ServiceDescriptor service : SERVICES) {
            Map<String, MethodDescriptor<?, ?>> byName = new HashMap<>();
            service.getMethods().forEach(m -> byName.put(m.getBareMethodName(), m));
            Descriptors.ServiceDescriptor proto =
                    ((ProtoServiceDescriptorSupplier) service.getSchemaDescriptor()).getServiceDescriptor();
            for (Descriptors.MethodDescriptor m : proto.getMethods()) {
                if (!m.getOptions().hasExtension(AnnotationsProto.http)) {
                    continue;
                }
                HttpRule rule = m.getOptions().getExtension(AnnotationsProto.http);
                List<HttpRule> rules = new ArrayList<>();
                rules.add(rule);
                rules.addAll(rule.getAdditionalBindingsList());
                for (HttpRule r : rules) {
                    String path = r.getPost();
                    if (r.getPatternCase() != HttpRule.PatternCase.POST || !r.getBody().equals("*") || !path.startsWith("/v3/")) {
                        throw new IllegalStateException(m.getFullName() + ": not a POST of body \"*\" under /v3/: " + r);
                    }
                    if (t.putIfAbsent(path, byName.get(m.getName())) != null) {
                        throw new IllegalStateException(path + " is given to two methods, the second " + m.getFullName());
                    }
                }
            }
        }
        return Collections.unmodifiableMap(t);
    }
}
