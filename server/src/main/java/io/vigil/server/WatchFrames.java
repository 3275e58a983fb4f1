package io.vigil.server;

import io.grpc.Drainable;
import io.grpc.ForwardingServerCall;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.internal.ServerStream;
import io.vigil.watch.WatchOut;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;

/**
 * How watch responses reach the wire: the one place that writes {@link WatchOut}s to grpc-java.
 *
 * <p>Each response is a standard gRPC message (grpc-java's own framer writes its 5-byte prefix),
 * so every client reads them; what differs from {@link ServerCall#sendMessage} is that a batch of
 * responses is written to the call's transport stream and flushed once. grpc-java then packs the
 * batch into shared buffers and hands its connection one write for it, instead of a buffer, a
 * queued write command and a promise per response (most of the server's CPU per delivered event
 * under fan-out). Flow control is grpc-java's: the bytes count against the call's ready
 * threshold and the HTTP/2 windows as the batch is written.
 *
 * <p>Reaching the transport stream needs grpc-java internals (the stream inside its
 * {@code ServerCallImpl}, under the interceptors' forwarding calls), found by reflection once;
 * where they are not there (another grpc-java, another transport) {@link #of} gives null and
 * responses go one by one through {@code sendMessage}, as before.
 *
 * <p>Threading: the same as a ServerCall's: one thread at a time per call (the Watch service
 * sends on its connection's event loop).
 */
final class WatchFrames {
    /** Writes a WatchOut's parts straight to the transport (Drainable), with its size known. */
    static final MethodDescriptor.Marshaller<WatchOut> MARSHALLER = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(WatchOut value) {
            return new WatchOutStream(value);
        }

        @Override
        public WatchOut parse(InputStream stream) {
            throw new UnsupportedOperationException("the server only sends watch responses");
        }
    };

    private static final Method DELEGATE;
    private static final Field STREAM;

    static {
        Method delegate = null;
        Field stream = null;
        try {
            delegate = ForwardingServerCall.class.getDeclaredMethod("delegate");
            delegate.setAccessible(true);
            stream = Class.forName("io.grpc.internal.ServerCallImpl").getDeclaredField("stream");
            stream.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException notThisGrpc) {
            VigilServer.LOG.log(System.Logger.Level.WARNING,
                    "watch responses go one by one: grpc-java's call internals are not as expected", notThisGrpc);
            delegate = null;
            stream = null;
        }
        DELEGATE = delegate;
        STREAM = stream;
    }

    private final ServerStream stream;

    private WatchFrames(ServerStream stream) {
        this.stream = stream;
    }

    /**
     * The batch writer of call (as a service handler sees it, under its interceptors), or null
     * when its transport stream cannot be reached.
     */
    static WatchFrames of(ServerCall<?, ?> call) {
        if (DELEGATE == null) {
            return null;
        }
        try {
            Object inner = call;
            while (inner instanceof ForwardingServerCall<?, ?>) {
                inner = DELEGATE.invoke(inner);
            }
            if (STREAM.getDeclaringClass().isInstance(inner) && STREAM.get(inner) instanceof ServerStream s) {
                return new WatchFrames(s);
            }
        } catch (ReflectiveOperationException | RuntimeException unexpected) {
            VigilServer.LOG.log(System.Logger.Level.DEBUG, "watch responses go one by one on this call", unexpected);
        }
        return null;
    }

    /**
     * Writes responses, in order, as one flush. The call must have sent its headers (its first
     * message went through sendMessage). A closed stream drops them, as sendMessage would.
     */
    void write(List<WatchOut> responses) {
        for (WatchOut r : responses) {
            stream.writeMessage(new WatchOutStream(r));
        }
        stream.flush();
    }

    /** A WatchOut as grpc-java's framer reads a message: drained into its buffer, length known. */
    private static final class WatchOutStream extends InputStream implements Drainable, KnownLength {
        private final WatchOut out;
        private InputStream fallback;
        private boolean drained;

        WatchOutStream(WatchOut out) {
            this.out = out;
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            if (fallback != null) {
                return (int) fallback.transferTo(target);
            }
            drained = true;
            out.writeTo(target);
            return out.size();
        }

        @Override
        public int available() throws IOException {
            if (fallback != null) {
                return fallback.available();
            }
            return drained ? 0 : out.size();
        }

        @Override
        public int read() throws IOException {
            return bytes().read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return bytes().read(b, off, len);
        }

        /** For a transport that reads instead of draining: one copy, made on first read. */
        private InputStream bytes() throws IOException {
            if (fallback == null) {
                ByteArrayOutputStream copy = new ByteArrayOutputStream(drained ? 0 : out.size());
                if (!drained) {
                    out.writeTo(copy);
                }
                drained = true;
                fallback = new ByteArrayInputStream(copy.toByteArray());
            }
            return fallback;
        }
    }
}
