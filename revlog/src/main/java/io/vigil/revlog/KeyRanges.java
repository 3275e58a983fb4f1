package io.vigil.revlog;

import java.util.Arrays;

/** etcd's key range conventions: [key, rangeEnd), empty rangeEnd = one key, "\0" = to the end. */
public final class KeyRanges {
    private KeyRanges() {
    }

    /** True when rangeEnd is etcd's "\0", meaning no upper bound. */
    public static boolean isFromKey(byte[] rangeEnd) {
        return rangeEnd.length == 1 && rangeEnd[0] == 0;
    }

    /** Whether key lies in [start, rangeEnd) under etcd's conventions. */
    public static boolean contains(byte[] start, byte[] rangeEnd, byte[] key) {
        if (rangeEnd.length == 0) {
            return Arrays.equals(start, key);
        }
        if (Arrays.compareUnsigned(key, start) < 0) {
            return false;
        }
        return isFromKey(rangeEnd) || Arrays.compareUnsigned(key, rangeEnd) < 0;
    }

    /** The smallest key greater than every key with this prefix, or "\0" when there is none. */
    public static byte[] prefixEnd(byte[] prefix) {
        byte[] end = Arrays.copyOf(prefix, prefix.length);
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return Arrays.copyOf(end, i + 1);
            }
        }
        return new byte[] {0};
    }
}
