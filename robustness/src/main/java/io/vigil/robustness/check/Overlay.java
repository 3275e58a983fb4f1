package io.vigil.robustness.check;

import com.google.protobuf.ByteString;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A request's changes on top of the state it applies to, so the ops of a txn see the changes of
 * the ops before them, as etcd's write txn does. A key mapped to null was deleted.
 */
final class Overlay implements StateView {
    private final StateView base;
    private final TreeMap<ByteString, KeyValue> changes = new TreeMap<>(Keys.ORDER);

    Overlay(StateView base) {
        this.base = base;
    }

    void put(KeyValue kv) {
        changes.put(kv.getKey(), kv);
    }

    void delete(ByteString key) {
        changes.put(key, null);
    }

    @Override
    public KeyValue get(ByteString key) {
        return changes.containsKey(key) ? changes.get(key) : base.get(key);
    }

    @Override
    public List<KeyValue> range(ByteString key, ByteString rangeEnd) {
        List<KeyValue> below = base.range(key, rangeEnd);
        if (changes.isEmpty()) {
            return below;
        }
        TreeMap<ByteString, KeyValue> merged = new TreeMap<>(Keys.ORDER);
        for (KeyValue kv : below) {
            merged.put(kv.getKey(), kv);
        }
        for (var c : changes.entrySet()) {
            if (Keys.inRange(c.getKey(), key, rangeEnd)) {
                if (c.getValue() == null) {
                    merged.remove(c.getKey());
                } else {
                    merged.put(c.getKey(), c.getValue());
                }
            }
        }
        return new ArrayList<>(merged.values());
    }
}
