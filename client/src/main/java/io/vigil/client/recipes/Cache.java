package io.vigil.client.recipes;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The informer's cache: values by key, each with the revision of its last change, and secondary
 * indexes kept in step with them. Not thread-safe: its owner guards it.
 */
final class Cache<T> {
    record Entry<T>(long modRevision, T value) {
    }

    private final TreeMap<String, Entry<T>> entries = new TreeMap<>();
    private final Map<String, Function<T, String>> indexFunctions = new HashMap<>();
    /** index name -> indexed value -> keys. */
    private final Map<String, Map<String, Set<String>>> indexes = new HashMap<>();

    void addIndex(String name, Function<T, String> indexFn) {
        if (indexFunctions.putIfAbsent(name, indexFn) != null) {
            throw new IllegalArgumentException("index " + name + " exists");
        }
        indexes.put(name, new HashMap<>());
        entries.forEach((key, e) -> index(name, indexFn, key, e.value()));
    }

    Entry<T> get(String key) {
        return entries.get(key);
    }

    Set<String> keys() {
        return entries.keySet();
    }

    /** Every value, in key order. */
    List<T> values() {
        return entries.values().stream().map(Entry::value).toList();
    }

    List<T> byIndex(String name, String value) {
        Map<String, Set<String>> index = indexes.get(name);
        if (index == null) {
            throw new IllegalArgumentException("no index " + name);
        }
        return index.getOrDefault(value, Set.of()).stream().map(k -> entries.get(k).value()).toList();
    }

    /** Sets the key's value; answers the entry it replaced, or null. */
    Entry<T> put(String key, long modRevision, T value) {
        Entry<T> old = entries.put(key, new Entry<>(modRevision, value));
        if (old != null) {
            unindex(key, old.value());
        }
        indexFunctions.forEach((name, fn) -> index(name, fn, key, value));
        return old;
    }

    /** Drops the key; answers the entry it held, or null. */
    Entry<T> remove(String key) {
        Entry<T> old = entries.remove(key);
        if (old != null) {
            unindex(key, old.value());
        }
        return old;
    }

    /** Whether the cache holds exactly these keys, each at this mod revision. */
    boolean holdsExactly(Map<String, Long> modRevisions) {
        if (modRevisions.size() != entries.size()) {
            return false;
        }
        for (Map.Entry<String, Entry<T>> e : entries.entrySet()) {
            Long r = modRevisions.get(e.getKey());
            if (r == null || r != e.getValue().modRevision()) {
                return false;
            }
        }
        return true;
    }

    private void index(String name, Function<T, String> fn, String key, T value) {
        String v = fn.apply(value);
        if (v != null) {
            indexes.get(name).computeIfAbsent(v, x -> new TreeSet<>()).add(key);
        }
    }

    private void unindex(String key, T value) {
        indexFunctions.forEach((name, fn) -> {
            String v = fn.apply(value);
            Map<String, Set<String>> index = indexes.get(name);
            Set<String> keys = v == null ? null : index.get(v);
            if (keys != null && keys.remove(key) && keys.isEmpty()) {
                index.remove(v);
            }
        });
    }
}
