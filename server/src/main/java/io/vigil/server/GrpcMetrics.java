package io.vigil.server;

import com.google.protobuf.MessageLite;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;

/**
 * The client port's gRPC metrics as etcd exports them through go-grpc-prometheus:
 * {@code grpc_server_started_total}, {@code grpc_server_handled_total} (with {@code grpc_code}),
 * {@code grpc_server_msg_received_total}, {@code grpc_server_msg_sent_total} and the
 * {@code grpc_server_handling_seconds} histogram (Prometheus' default buckets), labelled
 * {@code grpc_type} (unary, client_stream, server_stream, bidi_stream), {@code grpc_service}
 * (e.g. etcdserverpb.KV) and {@code grpc_method}; and etcd's own
 * {@code etcd_network_client_grpc_{received,sent}_bytes_total} (the messages' encoded sizes).
 * A call is handled once: when the server closes it, or when the client cancels it first
 * (code Canceled), so started minus handled is the calls open now.
 */
final class GrpcMetrics implements ServerInterceptor {
    /** Prometheus' default buckets (prometheus.DefBuckets), which go-grpc-prometheus uses. */
    static final Duration[] HANDLING_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final MeterRegistry registry;
    private final Counter receivedBytes;
    private final Counter sentBytes;
    private final Map<String, Method> methods = new ConcurrentHashMap<>();

    GrpcMetrics(MeterRegistry registry) {
        this.registry = registry;
        receivedBytes = Counter.builder("etcd.network.client.grpc.received.bytes")
                .description("The total number of bytes received from grpc clients.").register(registry);
        sentBytes = Counter.builder("etcd.network.client.grpc.sent.bytes")
                .description("The total number of bytes sent to grpc clients.").register(registry);
    }

    /** Every method's counters at zero from the start (go-grpc-prometheus' InitializeMetrics), so rates exist before traffic. */
    void initialize(List<ServerServiceDefinition> services) {
        for (ServerServiceDefinition s : services) {
            for (ServerMethodDefinition<?, ?> m : s.getMethods()) {
                method(m.getMethodDescriptor());
            }
        }
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        Method m = method(call.getMethodDescriptor());
        m.started.increment();
        long startNanos = System.nanoTime();
        AtomicBoolean handled = new AtomicBoolean();
        ServerCall<Q, A> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(A message) {
                m.sent.increment();
                sentBytes.increment(size(message));
                super.sendMessage(message);
            }

            @Override
            public void close(Status status, Metadata trailers) {
                if (handled.compareAndSet(false, true)) {
                    m.handled(status.getCode(), System.nanoTime() - startNanos);
                }
                super.close(status, trailers);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
            @Override
            public void onMessage(Q message) {
                m.received.increment();
                receivedBytes.increment(size(message));
                super.onMessage(message);
            }

            @Override
            public void onCancel() {
                if (handled.compareAndSet(false, true)) {
                    m.handled(Status.Code.CANCELLED, System.nanoTime() - startNanos);
                }
                super.onCancel();
            }
        };
    }

    private static int size(Object message) {
        return message instanceof MessageLite lite ? lite.getSerializedSize() : 0;
    }

    /**
     * The sent-messages count of a method, for messages its service writes past
     * {@link ServerCall#sendMessage} (where this interceptor counts them): the Watch batches.
     */
    IntConsumer sentCounter(MethodDescriptor<?, ?> d) {
        Counter sent = method(d).sent;
        return sent::increment;
    }

    private Method method(MethodDescriptor<?, ?> d) {
        Method m = methods.get(d.getFullMethodName());
        return m != null ? m : methods.computeIfAbsent(d.getFullMethodName(), n -> new Method(d));
    }

    /** One method's meters. */
    private final class Method {
        final Tags tags;
        final Counter started;
        final Counter received;
        final Counter sent;
        final Map<Status.Code, Counter> handledByCode = new EnumMap<>(Status.Code.class);
        private volatile Timer handling;

        Method(MethodDescriptor<?, ?> d) {
            tags = Tags.of("grpc_type", type(d.getType()), "grpc_service", d.getServiceName(),
                    "grpc_method", d.getBareMethodName());
            started = Counter.builder("grpc.server.started")
                    .description("Total number of RPCs started on the server.").tags(tags).register(registry);
            received = Counter.builder("grpc.server.msg.received")
                    .description("Total number of RPC stream messages received on the server.").tags(tags).register(registry);
            sent = Counter.builder("grpc.server.msg.sent")
                    .description("Total number of gRPC stream messages sent by the server.").tags(tags).register(registry);
            for (Status.Code c : Status.Code.values()) {
                handledByCode.put(c, Counter.builder("grpc.server.handled")
                        .description("Total number of RPCs completed on the server, regardless of success or failure.")
                        .tags(tags).tag("grpc_code", code(c)).register(registry));
            }
        }

        void handled(Status.Code code, long nanos) {
            handledByCode.get(code).increment();
            Timer t = handling;
            if (t == null) {
                // made on first use: a histogram per method that was never called is only noise
                t = Timer.builder("grpc.server.handling")
                        .description("Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.")
                        .tags(tags).serviceLevelObjectives(HANDLING_BUCKETS).register(registry);
                handling = t;
            }
            t.record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** go-grpc-prometheus' grpc_type values. */
    static String type(MethodDescriptor.MethodType t) {
        return switch (t) {
            case UNARY -> "unary";
            case CLIENT_STREAMING -> "client_stream";
            case SERVER_STREAMING -> "server_stream";
            default -> "bidi_stream";
        };
    }

    /** A status code as grpc-go spells it (codes.Code.String()): OK, Canceled, InvalidArgument, ... */
    static String code(Status.Code c) {
        if (c == Status.Code.OK) {
            return "OK";
        }
        if (c == Status.Code.CANCELLED) {
            return "Canceled";
        }
        StringBuilder sb = new StringBuilder();
        for (String part : c.name().split("_")) {
            sb.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
        }
        return sb.toString();
    }
}
