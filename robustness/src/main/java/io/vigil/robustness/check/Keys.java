package io.vigil.robustness.check;

import com.google.protobuf.ByteString;
import java.util.Comparator;

/** etcd's key ranges: [key, rangeEnd), an empty rangeEnd is the key alone, "\0" is every key from key. */
final class Keys {
    static final Comparator<ByteString> ORDER = ByteString.unsignedLexicographicalComparator();
    static final ByteString ALL_FROM = ByteString.copyFrom(new byte[] {0});

    private Keys() {
    }

    static boolean single(ByteString rangeEnd) {
        return rangeEnd.isEmpty();
    }

    static boolean unbounded(ByteString rangeEnd) {
        return rangeEnd.equals(ALL_FROM);
    }

    static boolean inRange(ByteString k, ByteString key, ByteString rangeEnd) {
        if (single(rangeEnd)) {
            return k.equals(key);
        }
        if (ORDER.compare(k, key) < 0) {
            return false;
        }
        return unbounded(rangeEnd) || ORDER.compare(k, rangeEnd) < 0;
    }

    /** The key as a person reads it: UTF-8 when printable, else hex. */
    static String show(ByteString k) {
        String s = k.toStringUtf8();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0xFFFD) {
                StringBuilder hex = new StringBuilder("0x");
                for (byte b : k.toByteArray()) {
                    hex.append(String.format("%02x", b & 0xff));
                }
                return hex.toString();
            }
        }
        return s;
    }

    static String showRange(ByteString key, ByteString rangeEnd) {
        if (single(rangeEnd)) {
            return show(key);
        }
        return "[" + show(key) + ", " + (unbounded(rangeEnd) ? "+inf" : show(rangeEnd)) + ")";
    }

    static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.3fs", nanos / 1e9);
    }
}
