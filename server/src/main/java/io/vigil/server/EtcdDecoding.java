package io.vigil.server;

import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A client service whose calls answer what is not one request of the method's type as etcd's
 * gRPC (grpc-go) answers it, instead of grpc-java's way:
 *
 * <ul>
 *   <li>bytes that do not decode: INTERNAL "grpc: error unmarshalling request: ..." (a unary
 *       request) or "grpc: failed to unmarshal the received message ..." (a stream), where
 *       grpc-java would answer UNKNOWN "Application error processing RPC", the very status of a
 *       handler that crashed;
 *   <li>a call that takes one request half-closed without it: UNKNOWN "EOF".
 * </ul>
 *
 * (A unary call with two requests stays grpc-java's: it is cancelled, where grpc-go answers the
 * first; that check sits below the handlers.)
 *
 * The handler of a call that ends so is told it was cancelled, so that what it holds (a watch
 * stream's watchers) is let go.
 */
final class EtcdDecoding {
    private EtcdDecoding() {
    }

    static ServerServiceDefinition of(BindableService service) {
        return of(service.bindService());
    }

    /**
     * {@code service} with every method made lenient; the service keeps its schema descriptor
     * (and each method its own), which server reflection reads the proto files from.
     */
    static ServerServiceDefinition of(ServerServiceDefinition service) {
        ServiceDescriptor original = service.getServiceDescriptor();
        List<ServerMethodDefinition<Object, ?>> methods = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            methods.add(lenient(m));
        }
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
                .setSchemaDescriptor(original.getSchemaDescriptor());
        // the service's descriptor must hold the very instances the definitions have
        methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
        ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(out::addMethod);
        return out.build();
    }

    private static <ReqT, RespT> ServerMethodDefinition<Object, ?> lenient(ServerMethodDefinition<ReqT, RespT> m) {
        MethodDescriptor<ReqT, RespT> method = m.getMethodDescriptor();
        MethodDescriptor<Object, RespT> lenient = method.toBuilder(new LenientMarshaller<>(method.getRequestMarshaller()),
                method.getResponseMarshaller()).build();
        boolean oneRequest = method.getType().clientSendsOneMessage();
        // grpc-go words it by how it reads: one request (a unary call), or a stream's messages
        String undecodable = method.getType() == MethodDescriptor.MethodType.UNARY
                ? "grpc: error unmarshalling request: " : "grpc: failed to unmarshal the received message ";
        ServerCallHandler<ReqT, RespT> handler = m.getServerCallHandler();
        ServerCallHandler<Object, RespT> lenientHandler = (call, headers) -> new Listener<>(call, headers, handler, oneRequest, undecodable);
        return ServerMethodDefinition.create(lenient, lenientHandler);
    }

    /** A request that did not decode, and why (the decoder's own words). */
    private record Undecodable(String reason) {
    }

    /** Decodes as the method's marshaller does, but answers an {@link Undecodable} where it would throw. */
    private record LenientMarshaller<ReqT>(MethodDescriptor.Marshaller<ReqT> strict) implements MethodDescriptor.Marshaller<Object> {
        @SuppressWarnings("unchecked")
        @Override
        public InputStream stream(Object value) {
            return strict.stream((ReqT) value);
        }

        @Override
        public Object parse(InputStream stream) {
            try {
                return strict.parse(stream);
            } catch (RuntimeException e) {
                Throwable why = e.getCause() != null ? e.getCause() : e;
                return new Undecodable(String.valueOf(why.getMessage()));
            }
        }
    }

    /** On the call's transport thread, like every listener of a call. */
    private static final class Listener<ReqT, RespT> extends ServerCall.Listener<Object> {
        private final ServerCall<Object, RespT> call;
        private final ServerCall.Listener<ReqT> inner;
        private final boolean oneRequest;
        private final String undecodable;
        private boolean received;
        /** This listener ended the call: the handler was told, and hears nothing more. */
        private boolean ended;

        @SuppressWarnings("unchecked")
        Listener(ServerCall<Object, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> handler,
                 boolean oneRequest, String undecodable) {
            this.call = call;
            this.oneRequest = oneRequest;
            this.undecodable = undecodable;
            // the handler sees the call as its own type: requests reach it decoded, or not at all
            this.inner = handler.startCall((ServerCall<ReqT, RespT>) (ServerCall<?, RespT>) call, headers);
        }

        @SuppressWarnings("unchecked")
        @Override
        public void onMessage(Object message) {
            if (ended) {
                return;
            }
            if (message instanceof Undecodable u) {
                end(Status.INTERNAL.withDescription(undecodable + u.reason()));
                return;
            }
            received = true;
            inner.onMessage((ReqT) message);
        }

        @Override
        public void onHalfClose() {
            if (ended) {
                return;
            }
            if (oneRequest && !received) {
                end(Status.UNKNOWN.withDescription("EOF"));
                return;
            }
            inner.onHalfClose();
        }

        @Override
        public void onCancel() {
            if (!ended) {
                inner.onCancel();
            }
        }

        @Override
        public void onComplete() {
            if (!ended) {
                inner.onComplete();
            }
        }

        @Override
        public void onReady() {
            if (!ended) {
                inner.onReady();
            }
        }

        private void end(Status status) {
            ended = true;
            inner.onCancel();
            call.close(status, new Metadata());
        }
    }
}
