package io.vigil.robustness.check;

import com.google.protobuf.ByteString;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * The store's state S(r) at every revision, from replaying the merged watch history. Each key keeps
 * the list of its versions (the revision each took effect and the kv, null for a delete), so S(r)
 * is never copied: a key at r is a binary search, a range walks the keys in the range.
 */
final class States {
    /** A key's versions; revisions strictly increasing. */
    private static final class Versions {
        long[] revisions = new long[2];
        KeyValue[] values = new KeyValue[2];
        int size;

        void add(long revision, KeyValue kv) {
            if (size == revisions.length) {
                revisions = Arrays.copyOf(revisions, size * 2);
                values = Arrays.copyOf(values, size * 2);
            }
            revisions[size] = revision;
            values[size] = kv;
            size++;
        }

        KeyValue at(long revision) {
            int i = Arrays.binarySearch(revisions, 0, size, revision);
            if (i < 0) {
                i = -i - 2; // the last version at or before revision
            }
            return i < 0 ? null : values[i];
        }
    }

    private final TreeMap<ByteString, Versions> keys = new TreeMap<>(Keys.ORDER);

    States(WatchHistory watched) {
        for (long r = WatchHistory.FIRST_REVISION + 1; r <= watched.lastRevision(); r++) {
            for (Event e : watched.events(r)) {
                Versions v = keys.computeIfAbsent(e.getKv().getKey(), k -> new Versions());
                v.add(r, e.getType() == Event.EventType.PUT ? e.getKv() : null);
            }
        }
    }

    /** The key at revision r, or null when absent. */
    KeyValue get(ByteString key, long revision) {
        Versions v = keys.get(key);
        return v == null ? null : v.at(revision);
    }

    /** The keys in [key, rangeEnd) at revision r, in key order. */
    List<KeyValue> range(ByteString key, ByteString rangeEnd, long revision) {
        List<KeyValue> out = new ArrayList<>();
        if (Keys.single(rangeEnd)) {
            KeyValue kv = get(key, revision);
            if (kv != null) {
                out.add(kv);
            }
            return out;
        }
        var sub = Keys.unbounded(rangeEnd) ? keys.tailMap(key, true) : keys.subMap(key, true, rangeEnd, false);
        if (!Keys.unbounded(rangeEnd) && Keys.ORDER.compare(key, rangeEnd) >= 0) {
            return out;
        }
        for (Versions v : sub.values()) {
            KeyValue kv = v.at(revision);
            if (kv != null) {
                out.add(kv);
            }
        }
        return out;
    }

    /** The keys attached to a lease at revision r, in key order. */
    List<ByteString> keysWithLease(long lease, long revision) {
        List<ByteString> out = new ArrayList<>();
        for (var e : keys.entrySet()) {
            KeyValue kv = e.getValue().at(revision);
            if (kv != null && kv.getLease() == lease) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    /** S(r) as a view for applying a request to it. */
    StateView at(long revision) {
        return new StateView() {
            @Override
            public KeyValue get(ByteString key) {
                return States.this.get(key, revision);
            }

            @Override
            public List<KeyValue> range(ByteString key, ByteString rangeEnd) {
                return States.this.range(key, rangeEnd, revision);
            }
        };
    }
}
