package io.vigil.client;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A key and its value as the store holds them at a revision: etcd's {@code mvccpb.KeyValue}.
 *
 * @param keyBytes the key
 * @param valueBytes the value
 * @param createRevision the revision of the key's creation (since its last delete)
 * @param modRevision the revision of its last change
 * @param version how many times it changed since its creation (1 when just created)
 * @param lease the lease it is bound to, 0 for none
 */
public record KeyValue(byte[] keyBytes, byte[] valueBytes, long createRevision, long modRevision, long version, long lease) {
    static KeyValue of(io.vigil.proto.mvccpb.KeyValue kv) {
        return new KeyValue(kv.getKey().toByteArray(), kv.getValue().toByteArray(), kv.getCreateRevision(),
                kv.getModRevision(), kv.getVersion(), kv.getLease());
    }

    /** The key as UTF-8 text. */
    public String key() {
        return new String(keyBytes, StandardCharsets.UTF_8);
    }

    /** The value as UTF-8 text. */
    public String value() {
        return new String(valueBytes, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyValue k && Arrays.equals(keyBytes, k.keyBytes) && Arrays.equals(valueBytes, k.valueBytes)
                && createRevision == k.createRevision && modRevision == k.modRevision && version == k.version
                && lease == k.lease;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(keyBytes) * 31 + Long.hashCode(modRevision);
    }

    @Override
    public String toString() {
        return key() + "=" + value() + "@" + modRevision + "(created " + createRevision + ", version " + version
                + (lease != 0 ? ", lease " + Long.toHexString(lease) : "") + ")";
    }
}
