package io.vigil.server;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

/**
 * An HTTP/2 client connection written by hand, frame by frame, for what no well-behaved client
 * sends: truncated messages, resets mid-message, pings too often, more streams than allowed.
 * Headers are HPACK literals without indexing or Huffman coding (what every decoder accepts).
 */
final class RawHttp2 implements AutoCloseable {
    static final int DATA = 0x0;
    static final int HEADERS = 0x1;
    static final int RST_STREAM = 0x3;
    static final int SETTINGS = 0x4;
    static final int PING = 0x6;
    static final int GOAWAY = 0x7;
    static final int FLAG_END_STREAM = 0x1;
    static final int FLAG_ACK = 0x1;
    static final int FLAG_END_HEADERS = 0x4;
    static final int SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
    static final int ERROR_CANCEL = 0x8;
    static final int ERROR_REFUSED_STREAM = 0x7;
    static final int ERROR_ENHANCE_YOUR_CALM = 0xb;
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    record Frame(int type, int flags, int stream, byte[] payload) {
        /** A SETTINGS frame's value of {@code id}, or -1 if it does not set it. */
        long setting(int id) {
            for (int i = 0; i + 6 <= payload.length; i += 6) {
                int key = ((payload[i] & 0xff) << 8) | (payload[i + 1] & 0xff);
                if (key == id) {
                    return readInt(payload, i + 2) & 0xffffffffL;
                }
            }
            return -1;
        }

        /** A RST_STREAM's or GOAWAY's error code. */
        int errorCode() {
            return readInt(payload, type == GOAWAY ? 4 : 0);
        }

        /** A GOAWAY's debug data. */
        String debugData() {
            return new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    private final String authority;

    private RawHttp2(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setSoTimeout(60_000);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
        authority = host + ":" + port;
    }

    /** Connected, with the client preface and an empty SETTINGS frame sent. */
    static RawHttp2 connect(String host, int port) {
        try {
            RawHttp2 c = new RawHttp2(host, port);
            c.bytes(PREFACE);
            c.frame(SETTINGS, 0, 0, new byte[0]);
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void bytes(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    void frame(int type, int flags, int stream, byte[] payload) throws IOException {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        writeInt(f, 5, stream & 0x7fffffff);
        System.arraycopy(payload, 0, f, 9, payload.length);
        bytes(f);
    }

    /** The request headers of a gRPC call to {@code path} ("/service/method"). */
    byte[] grpcHeaders(String path) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        literal(b, ":method", "POST");
        literal(b, ":scheme", "http");
        literal(b, ":path", path);
        literal(b, ":authority", authority);
        literal(b, "content-type", "application/grpc");
        literal(b, "te", "trailers");
        return b.toByteArray();
    }

    void grpcCall(int stream, String path) throws IOException {
        frame(HEADERS, FLAG_END_HEADERS, stream, grpcHeaders(path));
    }

    /** gRPC's length-prefixed message: uncompressed, claiming {@code claimedLength} bytes. */
    static byte[] grpcMessage(byte[] message, int claimedLength) {
        byte[] m = new byte[5 + message.length];
        writeInt(m, 1, claimedLength);
        System.arraycopy(message, 0, m, 5, message.length);
        return m;
    }

    void ping(long data) throws IOException {
        byte[] p = new byte[8];
        writeInt(p, 0, (int) (data >>> 32));
        writeInt(p, 4, (int) data);
        frame(PING, 0, 0, p);
    }

    void rst(int stream, int errorCode) throws IOException {
        byte[] p = new byte[4];
        writeInt(p, 0, errorCode);
        frame(RST_STREAM, 0, stream, p);
    }

    /** The next frame from the server; SETTINGS are acknowledged on the way. Null at end of stream. */
    Frame read() throws IOException {
        byte[] h = new byte[9];
        try {
            in.readFully(h);
        } catch (EOFException end) {
            return null;
        }
        int length = ((h[0] & 0xff) << 16) | ((h[1] & 0xff) << 8) | (h[2] & 0xff);
        byte[] payload = new byte[length];
        in.readFully(payload);
        Frame f = new Frame(h[3] & 0xff, h[4] & 0xff, readInt(h, 5) & 0x7fffffff, payload);
        if (f.type == SETTINGS && (f.flags & FLAG_ACK) == 0) {
            frame(SETTINGS, FLAG_ACK, 0, new byte[0]);
        }
        return f;
    }

    /** Reads until a frame matches (returned) or the server closes the connection (null). */
    Frame readUntil(Predicate<Frame> wanted) throws IOException {
        Frame f;
        while ((f = read()) != null) {
            if (wanted.test(f)) {
                return f;
            }
        }
        return null;
    }

    /** Reads until the server closes the connection; false if it did not within the socket's timeout. */
    boolean readToEnd() {
        try {
            while (read() != null) {
                // what it says on the way out does not matter
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing is all that was left to do
        }
    }

    private static void literal(ByteArrayOutputStream b, String name, String value) {
        b.write(0x00); // literal header field without indexing, new name
        string(b, name.getBytes(StandardCharsets.US_ASCII));
        string(b, value.getBytes(StandardCharsets.US_ASCII));
    }

    /** An HPACK string: no Huffman, length as a 7-bit-prefix integer. */
    private static void string(ByteArrayOutputStream b, byte[] s) {
        int n = s.length;
        if (n < 127) {
            b.write(n);
        } else {
            b.write(127);
            n -= 127;
            while (n >= 128) {
                b.write((n & 0x7f) | 0x80);
                n >>>= 7;
            }
            b.write(n);
        }
        b.writeBytes(s);
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    private static void writeInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }
}
