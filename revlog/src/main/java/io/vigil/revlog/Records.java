package io.vigil.revlog;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.vigil.proto.mvccpb.KeyValue;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Layout of the revision log in LMDB. Key: the revision, 8-byte big-endian main revision then
 * 4-byte big-endian sub revision, so LMDB's byte order is revision order. Value: one kind byte
 * (PUT or TOMBSTONE) then the encoded {@link KeyValue}. A tombstone's KeyValue holds only the key
 * and the mod_revision of the delete, exactly what a DELETE event carries.
 */
final class Records {
    static final byte PUT = 0;
    static final byte TOMBSTONE = 1;
    static final int REVISION_KEY_BYTES = 12;

    private Records() {
    }

    static byte[] revisionKey(long mainRevision, int subRevision) {
        byte[] k = new byte[REVISION_KEY_BYTES];
        for (int i = 0; i < 8; i++) {
            k[i] = (byte) (mainRevision >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            k[8 + i] = (byte) (subRevision >>> (24 - 8 * i));
        }
        return k;
    }

    static long mainRevision(byte[] revisionKey) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (revisionKey[i] & 0xff);
        }
        return v;
    }

    static int subRevision(byte[] revisionKey) {
        int v = 0;
        for (int i = 8; i < 12; i++) {
            v = (v << 8) | (revisionKey[i] & 0xff);
        }
        return v;
    }

    /** The record: the kind byte, then {@code kv} encoded straight after it (one array, no copy). */
    static byte[] encode(byte kind, KeyValue kv) {
        byte[] out = new byte[1 + kv.getSerializedSize()];
        out[0] = kind;
        CodedOutputStream body = CodedOutputStream.newInstance(out, 1, out.length - 1);
        try {
            kv.writeTo(body);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding into an array of its exact size", e);
        }
        body.checkNoSpaceLeft();
        return out;
    }

    static boolean isTombstone(byte[] record) {
        return record[0] == TOMBSTONE;
    }

    static KeyValue keyValue(byte[] record) {
        try {
            return KeyValue.parseFrom(CodedInputStream.newInstance(record, 1, record.length - 1));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("corrupt revision record", e);
        }
    }
}
