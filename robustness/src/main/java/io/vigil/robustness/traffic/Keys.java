package io.vigil.robustness.traffic;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;

/** Key helpers, as etcd's clientv3 computes them. */
final class Keys {
    private Keys() {
    }

    static ByteString key(String key) {
        return ByteString.copyFrom(key, StandardCharsets.UTF_8);
    }

    /**
     * The range_end that makes [prefix, end) every key starting with {@code prefix}: the prefix
     * with its last byte below 0xff incremented and what follows dropped (clientv3's
     * GetPrefixRangeEnd); {0} when every byte is 0xff.
     */
    static ByteString prefixEnd(ByteString prefix) {
        byte[] end = prefix.toByteArray();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return ByteString.copyFrom(end, 0, i + 1);
            }
        }
        return ByteString.copyFrom(new byte[] {0});
    }

    /** The smallest key after {@code key}: the key with a zero byte appended (a page's next start). */
    static ByteString successor(ByteString key) {
        return key.concat(ByteString.copyFrom(new byte[] {0}));
    }
}
