package io.vigil.robustness.check;

import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.List;
import java.util.stream.Collectors;

/** Event and key-value forms for comparison and messages. */
final class Events {
    private Events() {
    }

    static Event put(KeyValue kv) {
        return Event.newBuilder().setType(Event.EventType.PUT).setKv(kv).build();
    }

    /** A delete as etcd announces it: the key and the revision of the delete only. */
    static Event delete(com.google.protobuf.ByteString key, long revision) {
        return Event.newBuilder().setType(Event.EventType.DELETE)
                .setKv(KeyValue.newBuilder().setKey(key).setModRevision(revision)).build();
    }

    /** The parts a checker compares: a put's whole kv; a delete's key and revision; never prev_kv. */
    static Event comparable(Event e) {
        if (e.getType() == Event.EventType.DELETE) {
            return delete(e.getKv().getKey(), e.getKv().getModRevision());
        }
        return e.toBuilder().clearPrevKv().build();
    }

    static String show(Event e) {
        if (e.getType() == Event.EventType.DELETE) {
            return "delete " + Keys.show(e.getKv().getKey()) + "@" + e.getKv().getModRevision();
        }
        return "put " + show(e.getKv());
    }

    /** At most the first 10, so a range delete of thousands of keys stays one readable line. */
    static String show(List<Event> events) {
        String more = events.size() > 10 ? ", … " + (events.size() - 10) + " more" : "";
        return events.stream().limit(10).map(Events::show).collect(Collectors.joining(", ", "[", more + "]"));
    }

    /** "k=v (create 3, mod 5, version 2, lease 7)" */
    static String show(KeyValue kv) {
        return Keys.show(kv.getKey()) + "=" + Keys.show(kv.getValue()) + " (create " + kv.getCreateRevision() + ", mod "
                + kv.getModRevision() + ", version " + kv.getVersion() + (kv.getLease() != 0 ? ", lease " + kv.getLease() : "")
                + ")";
    }

    static String showKvs(List<KeyValue> kvs) {
        String more = kvs.size() > 10 ? ", … " + (kvs.size() - 10) + " more" : "";
        return kvs.stream().limit(10).map(Events::show).collect(Collectors.joining(", ", "[", more + "]"));
    }
}
