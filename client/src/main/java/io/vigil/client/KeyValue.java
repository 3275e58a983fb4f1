package io.vigil.client;

import com.google.protobuf.ByteString;
import java.util.Objects;

/**
 * A key and its value as the store holds them at a revision: etcd's {@code mvccpb.KeyValue}.
 * Immutable; the bytes are kept as received and decoded only when asked, so a cache that reads
 * text pays one UTF-8 decode per field and no copy.
 */
public final class KeyValue {
    private final ByteString key;
    private final ByteString value;
    private final long createRevision;
    private final long modRevision;
    private final long version;
    private final long lease;

    private KeyValue(io.vigil.proto.mvccpb.KeyValue kv) {
        this.key = kv.getKey();
        this.value = kv.getValue();
        this.createRevision = kv.getCreateRevision();
        this.modRevision = kv.getModRevision();
        this.version = kv.getVersion();
        this.lease = kv.getLease();
    }

    static KeyValue of(io.vigil.proto.mvccpb.KeyValue kv) {
        return new KeyValue(kv);
    }

    /** The key as UTF-8 text. */
    public String key() {
        return key.toStringUtf8();
    }

    /** The value as UTF-8 text. */
    public String value() {
        return value.toStringUtf8();
    }

    /** A copy of the key's bytes. */
    public byte[] keyBytes() {
        return key.toByteArray();
    }

    /** A copy of the value's bytes. */
    public byte[] valueBytes() {
        return value.toByteArray();
    }

    /** The revision of the key's creation (since its last delete). */
    public long createRevision() {
        return createRevision;
    }

    /** The revision of its last change. */
    public long modRevision() {
        return modRevision;
    }

    /** How many times it changed since its creation (1 when just created). */
    public long version() {
        return version;
    }

    /** The lease it is bound to, 0 for none. */
    public long lease() {
        return lease;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyValue k && key.equals(k.key) && value.equals(k.value) && createRevision == k.createRevision
                && modRevision == k.modRevision && version == k.version && lease == k.lease;
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, modRevision);
    }

    @Override
    public String toString() {
        return key() + "=" + value() + "@" + modRevision + "(created " + createRevision + ", version " + version
                + (lease != 0 ? ", lease " + Long.toHexString(lease) : "") + ")";
    }
}
