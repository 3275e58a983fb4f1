package io.vigil.server;

import io.grpc.Drainable;
import io.grpc.ForwardingServerCall;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.internal.AbstractServerStream;
import io.grpc.internal.MessageFramer;
import io.grpc.internal.WritableBuffer;
import io.grpc.internal.WritableBufferAllocator;
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
 * <p>Each response is a standard gRPC message (a 5-byte prefix, flag 0 and the length, then the
 * encoded WatchResponse), so every client reads them. What differs from
 * {@link ServerCall#sendMessage} is that this class frames a batch itself: every response of the
 * batch, prefix and parts, goes into one transport buffer sized for the whole batch, handed to
 * the stream as one frame and flushed once. grpc-java's framer would instead allocate a buffer
 * sized to each message and hand each to the stream as its own frame: a buffer, a queued write
 * command, a promise and a flow-controlled HTTP/2 write per response, which was most of the
 * server's CPU per delivered event under fan-out. A batch larger than the transport's largest
 * buffer (1 MiB) goes as several frames; a response may span two of them, as HTTP/2 allows.
 *
 * <p>Flow control is grpc-java's: the frame goes through the stream's own sink, which counts its
 * bytes against the call's ready threshold and the HTTP/2 windows, and the caller writes a batch
 * only while the call is ready.
 *
 * <p>Reaching the stream and its buffer allocator needs grpc-java internals (the stream inside
 * its {@code ServerCallImpl}, under the interceptors' forwarding calls; the framer's allocator),
 * found by reflection once; where they are not there (another grpc-java, another transport)
 * {@link #of} gives null and responses go one by one through {@code sendMessage}, as before.
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

    /** gRPC's message prefix: a compressed flag (0: none) and the length, 4 bytes big-endian. */
    private static final int PREFIX = 5;

    private static final Method DELEGATE;
    private static final Field STREAM;
    private static final Method FRAMER;
    private static final Field ALLOCATOR;

    static {
        Method delegate = null;
        Field stream = null;
        Method framer = null;
        Field allocator = null;
        try {
            delegate = ForwardingServerCall.class.getDeclaredMethod("delegate");
            delegate.setAccessible(true);
            stream = Class.forName("io.grpc.internal.ServerCallImpl").getDeclaredField("stream");
            stream.setAccessible(true);
            framer = AbstractServerStream.class.getDeclaredMethod("framer");
            framer.setAccessible(true);
            allocator = MessageFramer.class.getDeclaredField("bufferAllocator");
            allocator.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException notThisGrpc) {
            VigilServer.LOG.log(System.Logger.Level.WARNING,
                    "watch responses go one by one: grpc-java's call internals are not as expected", notThisGrpc);
            delegate = null;
        }
        DELEGATE = delegate;
        STREAM = stream;
        FRAMER = framer;
        ALLOCATOR = allocator;
    }

    private final AbstractServerStream stream;
    /** The stream's own framer: written to only by sendMessage; closed once the call is. */
    private final MessageFramer framer;
    private final WritableBufferAllocator allocator;

    private WatchFrames(AbstractServerStream stream, MessageFramer framer, WritableBufferAllocator allocator) {
        this.stream = stream;
        this.framer = framer;
        this.allocator = allocator;
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
            if (STREAM.getDeclaringClass().isInstance(inner) && STREAM.get(inner) instanceof AbstractServerStream s
                    && FRAMER.invoke(s) instanceof MessageFramer framer
                    && ALLOCATOR.get(framer) instanceof WritableBufferAllocator allocator) {
                return new WatchFrames(s, framer, allocator);
            }
        } catch (ReflectiveOperationException | RuntimeException unexpected) {
            VigilServer.LOG.log(System.Logger.Level.DEBUG, "watch responses go one by one on this call", unexpected);
        }
        return null;
    }

    /**
     * Writes responses, in order, and flushes once. The call must have sent its headers (its first
     * message went through sendMessage, which also leaves the framer holding nothing). A closed
     * call drops them, as sendMessage's framer would.
     */
    void write(List<WatchOut> responses) {
        if (responses.isEmpty() || framer.isClosed()) {
            return;
        }
        long total = 0;
        for (WatchOut r : responses) {
            total += PREFIX + r.size();
        }
        Frames out = new Frames(total);
        try {
            for (WatchOut r : responses) {
                out.message(r);
            }
        } catch (IOException | RuntimeException e) {
            // frames of this batch may be out already: the rest of the stream would not decode
            out.release();
            stream.cancel(io.grpc.Status.INTERNAL.withDescription("framing watch responses failed").withCause(e));
            throw new IllegalStateException("framing watch responses", e);
        }
        out.deliver(true);
    }

    /**
     * The batch's bytes, in transport buffers of at most the allocator's largest size; each full
     * buffer is handed to the stream unflushed, the last one with the flush.
     */
    private final class Frames extends OutputStream {
        private final byte[] prefix = new byte[PREFIX];
        /** Bytes of the batch not yet written. */
        private long remaining;
        private WritableBuffer buffer;
        /** Messages whose last byte is in {@link #buffer}. */
        private int messages;

        Frames(long total) {
            remaining = total;
            buffer = allocator.allocate((int) Math.min(total, Integer.MAX_VALUE));
        }

        void message(WatchOut r) throws IOException {
            int size = r.size();
            prefix[0] = 0;
            prefix[1] = (byte) (size >>> 24);
            prefix[2] = (byte) (size >>> 16);
            prefix[3] = (byte) (size >>> 8);
            prefix[4] = (byte) size;
            write(prefix, 0, PREFIX);
            r.writeTo(this);
            messages++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            while (len > 0) {
                if (buffer.writableBytes() == 0) {
                    deliver(false);
                    buffer = allocator.allocate((int) Math.min(remaining, Integer.MAX_VALUE));
                }
                int n = Math.min(len, buffer.writableBytes());
                buffer.write(b, off, n);
                off += n;
                len -= n;
                remaining -= n;
            }
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        /** Hands the current buffer to the stream; the stream owns (and releases) it from here. */
        void deliver(boolean flush) {
            WritableBuffer full = buffer;
            buffer = null;
            stream.deliverFrame(full, false, flush, messages);
            messages = 0;
        }

        void release() {
            if (buffer != null) {
                buffer.release();
                buffer = null;
            }
        }
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
