package io.vigil.watch;

import com.google.protobuf.ByteString;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Every watcher of the hub, found by the keys it covers: single-key watchers in a hash map by key,
 * range watchers (prefixes, [key, end), [key, infinity)) in an {@link IntervalTree}. A lookup for
 * one key costs O(1) plus the range tree's stabbing query, and then one step per match: it never
 * walks watchers that do not match. Guarded by the hub lock.
 */
final class WatcherRegistry {
    /** Watchers of one key; removal swaps the last one into the hole ({@link Watcher#slot}). */
    private static final class KeyWatchers {
        Watcher[] watchers = new Watcher[1];
        int size;

        void add(Watcher w) {
            if (size == watchers.length) {
                watchers = Arrays.copyOf(watchers, size * 2);
            }
            w.slot = size;
            watchers[size++] = w;
        }

        void remove(Watcher w) {
            Watcher last = watchers[--size];
            watchers[w.slot] = last;
            last.slot = w.slot;
            watchers[size] = null;
            w.slot = -1;
            if (size > 0 && size * 4 < watchers.length) {
                watchers = Arrays.copyOf(watchers, size * 2);
            }
        }
    }

    private final Map<ByteString, KeyWatchers> byKey = new HashMap<>();
    private final IntervalTree<Watcher> ranges = new IntervalTree<>();
    private int size;
    /** Watchers that asked for prev_kv; written under the hub lock, read also without it. */
    private volatile int prevKvWatchers;

    void add(Watcher w) {
        if (w.prevKv) {
            prevKvWatchers++;
        }
        if (w.isSingleKey()) {
            byKey.computeIfAbsent(w.key, k -> new KeyWatchers()).add(w);
        } else {
            ranges.add(w.start, w.end, w);
        }
        size++;
    }

    void remove(Watcher w) {
        if (w.isSingleKey()) {
            KeyWatchers list = byKey.get(w.key);
            list.remove(w);
            if (list.size == 0) {
                byKey.remove(w.key);
            }
        } else if (!ranges.remove(w.start, w.end, w)) {
            throw new IllegalStateException("watcher " + w.id + " was not registered");
        }
        size--;
        if (w.prevKv) {
            prevKvWatchers--;
        }
    }

    /** Whether a registered watcher asked for prev_kv. Any thread. */
    boolean anyPrevKv() {
        return prevKvWatchers > 0;
    }

    /** Calls action for each watcher whose range holds key (whatever its filters and position). */
    void forEachCovering(ByteString key, Consumer<Watcher> action) {
        KeyWatchers list = byKey.get(key);
        if (list != null) {
            Watcher[] ws = list.watchers;
            for (int i = 0, n = list.size; i < n; i++) {
                action.accept(ws[i]);
            }
        }
        if (!ranges.isEmpty()) {
            ranges.forEachContaining(key.toByteArray(), action);
        }
    }

    int size() {
        return size;
    }
}
