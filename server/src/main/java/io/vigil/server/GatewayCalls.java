package io.vigil.server;

import com.google.protobuf.Message;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Starts calls of the client port's services for a transport other than gRPC's (the JSON
 * gateway; later server-sent events): the same service definitions the gRPC server has, behind
 * the same interceptors in the same order, so a JSON call is authenticated, refused on a learner,
 * ended at shutdown, counted in the gRPC metrics and answered exactly as the gRPC call would be
 * (etcd's gateway is a gRPC client of its own server, so there too the two are one path).
 *
 * <p>One thing gRPC's transport does before any handler is done here: a request larger than the
 * client port's message limit is refused with grpc-go's RESOURCE_EXHAUSTED.
 */
final class GatewayCalls {
    private final Map<String, ServerMethodDefinition<?, ?>> methods = new HashMap<>();
    private final int maxMessageBytes;

    /**
     * @param services the client port's services, as registered
     * @param interceptors the client port's interceptors, in the order given to the server builder
     *     (the last one runs first)
     * @param maxMessageBytes the largest request the gRPC transport takes
     */
    GatewayCalls(List<ServerServiceDefinition> services, List<ServerInterceptor> interceptors, int maxMessageBytes) {
        for (ServerServiceDefinition s : services) {
            for (ServerMethodDefinition<?, ?> m : ServerInterceptors.intercept(s, interceptors).getMethods()) {
                methods.put(m.getMethodDescriptor().getFullMethodName(), m);
            }
        }
        this.maxMessageBytes = maxMessageBytes;
    }

    /** The request type of a generated method descriptor. */
    static Message requestPrototype(MethodDescriptor<?, ?> method) {
        return (Message) ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller()).getMessagePrototype();
    }

    private static Message responsePrototype(MethodDescriptor<?, ?> method) {
        return (Message) ((MethodDescriptor.PrototypeMarshaller<?>) method.getResponseMarshaller()).getMessagePrototype();
    }

    /**
     * Starts a call of {@code method} (a generated descriptor) on {@code loop}, which must be the
     * current thread's event loop; null when the port serves no such method.
     *
     * @param attributes the transport's attributes of the call (remote address, TLS session)
     * @param writable whether the transport takes more now (any thread)
     */
    GatewayCall start(MethodDescriptor<?, ?> method, Metadata headers, EventExecutor loop, Attributes attributes,
                      BooleanSupplier writable, GatewayCall.Sink sink) {
        ServerMethodDefinition<?, ?> definition = methods.get(method.getFullMethodName());
        if (definition == null) {
            return null;
        }
        GatewayCall call = new GatewayCall(definition, responsePrototype(method), loop, attributes, writable, sink);
        call.start(definition, headers);
        return call;
    }

    /** Refuses a request over the message limit before the handler sees it (grpc-go's words). */
    Status check(Message request) {
        int size = request.getSerializedSize();
        if (size > maxMessageBytes) {
            return Status.RESOURCE_EXHAUSTED.withDescription(
                    "grpc: received message larger than max (" + size + " vs. " + maxMessageBytes + ")");
        }
        return null;
    }
}
