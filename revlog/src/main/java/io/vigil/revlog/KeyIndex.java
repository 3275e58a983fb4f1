package io.vigil.revlog;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * In-memory index from user key to its {@link KeyHistory}. Like etcd's treeIndex it is rebuilt
 * from the revision log at start-up; it exists because LMDB keys are limited to 511 bytes while
 * etcd keys may be up to the request size limit.
 *
 * <p>Two maps hold the same histories: a skip list in unsigned byte order for ranges, and a hash
 * map for single keys, the common case of every put and of most gets, where a skip list walk of
 * ~log2(keys) byte comparisons was the largest cost of the apply thread.
 *
 * <p>One writer, many lock-free readers (see {@link KeyHistory} for the publication contract). A
 * key is added to both maps before its first revision is appended and removed from both only when
 * compaction leaves it no revision, so a reader may see a key in one map and not yet in the other
 * only while it has no revision a reader could be reading.
 */
final class KeyIndex {
    /** A user key with value semantics, for the hash map. */
    private record Key(byte[] bytes, int hash) {
        Key(byte[] bytes) {
            this(bytes, Arrays.hashCode(bytes));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && Arrays.equals(k.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final ConcurrentSkipListMap<byte[], KeyHistory> sorted =
            new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
    private final ConcurrentHashMap<Key, KeyHistory> exact = new ConcurrentHashMap<>();

    KeyHistory get(byte[] key) {
        return exact.get(new Key(key));
    }

    /** Writer only. */
    KeyHistory getOrCreate(byte[] key) {
        Key k = new Key(key);
        KeyHistory h = exact.get(k);
        if (h == null) {
            h = new KeyHistory();
            sorted.put(key, h);
            exact.put(k, h);
        }
        return h;
    }

    /**
     * The keys in [key, rangeEnd) per etcd's range conventions: an empty rangeEnd is the single
     * key, rangeEnd {@code "\0"} means every key >= key.
     */
    Iterable<Map.Entry<byte[], KeyHistory>> range(byte[] key, byte[] rangeEnd) {
        if (rangeEnd.length == 0) {
            KeyHistory h = get(key);
            return h == null ? List.of() : List.of(Map.entry(key, h));
        }
        if (KeyRanges.isFromKey(rangeEnd)) {
            return sorted.tailMap(key, true).entrySet();
        }
        if (Arrays.compareUnsigned(key, rangeEnd) >= 0) {
            return List.of();
        }
        return sorted.subMap(key, true, rangeEnd, false).entrySet();
    }

    /**
     * Writer only. Compacts every key's history at compactRevision (see {@link KeyHistory#compact})
     * and drops the keys left with no revision.
     */
    void compact(long compactRevision, KeyHistory.RevisionConsumer removed) {
        Iterator<Map.Entry<byte[], KeyHistory>> it = sorted.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<byte[], KeyHistory> e = it.next();
            if (e.getValue().compact(compactRevision, removed)) {
                it.remove();
                exact.remove(new Key(e.getKey()));
            }
        }
    }
}
