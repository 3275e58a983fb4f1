package io.vigil.server;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * One call of a client service made without gRPC's transport: requests come decoded (from JSON),
 * responses go to a {@link Sink} as messages. It is a {@link ServerCall} handed to the method's
 * handler as registered on the client port, interceptors included, so the call is served,
 * refused, limited and counted exactly as the same call over gRPC.
 *
 * <p>Threads, as gRPC's own calls: everything the handler is told (start, messages, half-close,
 * ready, cancel, complete) happens on one event loop, the HTTP connection's, which is also where
 * the services expect to run (they look up their event loop, as under gRPC's directExecutor). What
 * the handler calls on the call (sendMessage, close, request) may come from any thread; it is
 * carried out on that loop, in the order called, so a close never overtakes a message sent before
 * it. The sink is only ever called on the loop.
 *
 * <p>Requests are delivered as the handler asks for them ({@link #request}), and the half-close
 * only once every request before it was delivered, as gRPC does.
 */
final class GatewayCall extends ServerCall<Object, Object> {
    /** Where the responses go, on the call's event loop. */
    interface Sink {
        /** Whether the transport takes more now; the call tells the handler when it does again ({@link #ready}). */
        boolean isReady();

        /** One response, decoded. */
        void onMessage(Message response);

        /** The call ended with {@code status}; nothing follows. */
        void onClose(Status status);
    }

    private final MethodDescriptor<Object, Object> method;
    private final Message responsePrototype;
    private final EventExecutor loop;
    private final Sink sink;
    private final Attributes attributes;
    private final BooleanSupplier writable;
    private final AtomicBoolean closeCalled = new AtomicBoolean();
    // on the loop
    private final ArrayDeque<Object> inbound = new ArrayDeque<>();
    private Listener<Object> listener;
    private int requested;
    private boolean halfClosed;
    private boolean halfCloseDelivered;
    private boolean ended;
    private volatile boolean cancelled;

    @SuppressWarnings("unchecked")
    GatewayCall(ServerMethodDefinition<?, ?> definition, Message responsePrototype, EventExecutor loop, Attributes attributes,
                BooleanSupplier writable, Sink sink) {
        this.method = (MethodDescriptor<Object, Object>) definition.getMethodDescriptor();
        this.responsePrototype = responsePrototype;
        this.loop = loop;
        this.attributes = attributes;
        this.writable = writable;
        this.sink = sink;
    }

    /** Starts the call through {@code definition}'s handler; on the loop. */
    @SuppressWarnings("unchecked")
    void start(ServerMethodDefinition<?, ?> definition, Metadata headers) {
        listener = ((io.grpc.ServerCallHandler<Object, Object>) definition.getServerCallHandler()).startCall(this, headers);
    }

    /** A request from the client; on the loop. */
    void send(Message request) {
        if (!ended && !halfClosed) {
            inbound.add(request);
            deliver();
        }
    }

    /** The client sends nothing more; on the loop. */
    void halfClose() {
        if (!ended && !halfClosed) {
            halfClosed = true;
            deliver();
        }
    }

    /** The client went away (the connection closed): the handler is told the call was cancelled; on the loop. */
    void cancel() {
        if (!ended) {
            ended = true;
            cancelled = true;
            safely(() -> listener.onCancel());
        }
    }

    /** The transport takes more again; on the loop. */
    void ready() {
        if (!ended) {
            safely(() -> listener.onReady());
        }
    }

    private void deliver() {
        while (!ended && requested > 0 && !inbound.isEmpty()) {
            requested--;
            Object m = inbound.poll();
            safely(() -> listener.onMessage(m));
        }
        if (!ended && halfClosed && inbound.isEmpty() && !halfCloseDelivered) {
            halfCloseDelivered = true;
            safely(() -> listener.onHalfClose());
        }
    }

    /** A handler that throws ends its call as gRPC ends it: UNKNOWN. */
    private void safely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "gateway call " + method.getFullMethodName() + " failed", e);
            if (closeCalled.compareAndSet(false, true)) {
                finish(Status.UNKNOWN.withDescription("Application error processing RPC"));
            }
        }
    }

    @Override
    public void request(int numMessages) {
        onLoop(() -> {
            requested += numMessages;
            deliver();
        });
    }

    @Override
    public void sendHeaders(Metadata headers) {
        // the HTTP response's headers are the sink's
    }

    @Override
    public void sendMessage(Object message) {
        Message decoded = decode(message);
        onLoop(() -> {
            if (!ended) {
                sink.onMessage(decoded);
            }
        });
    }

    @Override
    public void close(Status status, Metadata trailers) {
        if (!closeCalled.compareAndSet(false, true)) {
            throw new IllegalStateException("call already closed");
        }
        onLoop(() -> finish(status));
    }

    /** On the loop: the sink hears the status, the handler that its call is complete (unless it was cancelled). */
    private void finish(Status status) {
        if (ended) {
            return;
        }
        ended = true;
        sink.onClose(status);
        try {
            listener.onComplete();
        } catch (RuntimeException e) {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "gateway call " + method.getFullMethodName() + " failed", e);
        }
    }

    @Override
    public boolean isReady() {
        return !cancelled && writable.getAsBoolean();
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public Attributes getAttributes() {
        return attributes;
    }

    @Override
    public MethodDescriptor<Object, Object> getMethodDescriptor() {
        return method;
    }

    /** A response as a message: as sent, or (a service that sends pre-encoded bytes, as Watch) decoded from its encoding. */
    private Message decode(Object response) {
        if (response instanceof Message m) {
            return m;
        }
        try (InputStream in = method.streamResponse(response)) {
            return responsePrototype.getParserForType().parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a response of " + method.getFullMethodName() + " does not decode", e);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void onLoop(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException gone) {
            // the connection's loop is shutting down: nobody is left to tell
        }
    }
}
