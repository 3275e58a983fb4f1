package io.vigil.client;

import io.vigil.proto.mvccpb.Event;

/**
 * One change seen by a watch: a put (its new value) or a delete (the key, at the delete's
 * revision), and the value before it when the watch asked for previous values (else null).
 */
public record WatchEvent(Type type, KeyValue kv, KeyValue previous) {
    public enum Type { PUT, DELETE }

    static WatchEvent of(Event e) {
        return new WatchEvent(e.getType() == Event.EventType.DELETE ? Type.DELETE : Type.PUT, KeyValue.of(e.getKv()),
                e.hasPrevKv() ? KeyValue.of(e.getPrevKv()) : null);
    }

    /** The revision of the change. */
    public long revision() {
        return kv.modRevision();
    }
}
