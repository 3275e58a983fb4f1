package io.vigil.revlog;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * In-memory index from user key (unsigned byte order) to its {@link KeyHistory}. Like etcd's
 * treeIndex it is rebuilt from the revision log at start-up; it exists because LMDB keys are
 * limited to 511 bytes while etcd keys may be up to the request size limit.
 *
 * <p>One writer, many lock-free readers (see {@link KeyHistory} for the publication contract).
 */
final class KeyIndex {
    private final ConcurrentSkipListMap<byte[], KeyHistory> keys =
            new ConcurrentSkipListMap<>(Arrays::compareUnsigned);

    KeyHistory get(byte[] key) {
        return keys.get(key);
    }

    /** Writer only. */
    KeyHistory getOrCreate(byte[] key) {
        return keys.computeIfAbsent(key, k -> new KeyHistory());
    }

    /** Writer only. */
    void remove(byte[] key) {
        keys.remove(key);
    }

    /**
     * The keys in [key, rangeEnd) per etcd's range conventions: an empty rangeEnd is the single
     * key, rangeEnd {@code "\0"} means every key >= key.
     */
    Iterable<Map.Entry<byte[], KeyHistory>> range(byte[] key, byte[] rangeEnd) {
        if (rangeEnd.length == 0) {
            KeyHistory h = keys.get(key);
            return h == null ? List.of() : List.of(Map.entry(key, h));
        }
        if (KeyRanges.isFromKey(rangeEnd)) {
            return keys.tailMap(key, true).entrySet();
        }
        if (Arrays.compareUnsigned(key, rangeEnd) >= 0) {
            return List.of();
        }
        return keys.subMap(key, true, rangeEnd, false).entrySet();
    }

    NavigableMap<byte[], KeyHistory> all() {
        return keys;
    }
}
