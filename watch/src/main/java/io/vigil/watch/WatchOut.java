package io.vigil.watch;

import com.google.protobuf.CodedOutputStream;
import io.vigil.proto.etcdserverpb.WatchResponse;
import java.io.IOException;
import java.io.OutputStream;

/**
 * One WatchResponse, already in wire form, as a sequence of byte parts whose concatenation is a
 * valid encoding of the message. Parts are shared, never copied: the header of a revision and
 * each encoded event are made once and referenced by every response, on every stream, that
 * carries them. Immutable.
 */
public final class WatchOut {
    private final byte[][] parts;
    private final int size;

    WatchOut(byte[][] parts) {
        this(parts, lengthOf(parts));
    }

    /**
     * Parts whose summed length the caller already knows, so the send path does not walk them
     * (and miss the cache on each) once more before writing them.
     */
    WatchOut(byte[][] parts, int size) {
        this.parts = parts;
        this.size = size;
        assert size == lengthOf(parts) : "sized as " + size + " bytes, encoded as " + lengthOf(parts);
    }

    private static int lengthOf(byte[][] parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        return n;
    }

    /** A response built as a message: created, canceled, progress and compaction notices. */
    public static WatchOut of(WatchResponse response) {
        return new WatchOut(new byte[][] {response.toByteArray()});
    }

    /** The encoded length in bytes. */
    public int size() {
        return size;
    }

    public void writeTo(OutputStream out) throws IOException {
        for (byte[] p : parts) {
            out.write(p);
        }
    }

    /** Decodes the parts; for tests and clients that want the message. */
    public WatchResponse toResponse() {
        byte[] all = new byte[size];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        try {
            return WatchResponse.parseFrom(all);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException("a WatchOut that does not decode", e);
        }
    }

    /** Field {@code number} of WatchResponse holding a message, encoded: tag, length, bytes. */
    static byte[] messageField(int number, com.google.protobuf.MessageLite m) {
        return encode(CodedOutputStream.computeMessageSize(number, m), cos -> cos.writeMessage(number, m));
    }

    /** Field {@code number} holding an int64 (proto3: nothing when zero). */
    static byte[] int64Field(int number, long value) {
        if (value == 0) {
            return new byte[0];
        }
        return encode(CodedOutputStream.computeInt64Size(number, value), cos -> cos.writeInt64(number, value));
    }

    private interface FieldWriter {
        void write(CodedOutputStream cos) throws IOException;
    }

    private static byte[] encode(int size, FieldWriter field) {
        byte[] out = new byte[size];
        CodedOutputStream cos = CodedOutputStream.newInstance(out);
        try {
            field.write(cos);
            cos.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new IllegalStateException("encoding into an array of the computed size", e);
        }
        return out;
    }
}
