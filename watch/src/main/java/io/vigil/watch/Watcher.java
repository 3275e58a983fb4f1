package io.vigil.watch;

import com.google.protobuf.ByteString;
import io.vigil.proto.mvccpb.Event;
import java.util.Arrays;

/**
 * One watch: a key range, options, and a position in the revision log. Everything mutable is
 * guarded by the hub lock.
 *
 * <p>Position invariant: the watcher has been handed (enqueued on its stream) every matching event
 * of every revision below {@code nextRevision} from its start revision on, in order, and nothing
 * at or above it. A live watcher gets each published revision at or above nextRevision; a
 * catching-up one is fed from the revision log, from nextRevision, until it reaches the published
 * head and joins the live set.
 */
final class Watcher {
    final long id;
    final WatchStream stream;
    /** The watched key; with {@code end == null} the only one. */
    final ByteString key;
    final byte[] start;
    /** Exclusive end; empty: unbounded (etcd's "\0"); null: a single key. */
    final byte[] end;
    final boolean noPut;
    final boolean noDelete;
    final boolean prevKv;
    final boolean fragment;
    final boolean progressNotify;
    /** This watcher's watch_id as an encoded WatchResponse field, shared by all its responses. */
    final byte[] idField;
    /** The revision its created response named; no later header it gets may be lower. */
    final long createdAt;

    long nextRevision;
    boolean live;
    /** Something was sent since the last progress_notify tick (etcd then skips the notice). */
    boolean sentSinceTick;
    /**
     * Its newest events response still queued on its stream, which may take its next events
     * while it waits (see WatchStream, "Merging"); null once a drain took it. Guarded by the
     * stream's outbound queue monitor.
     */
    WatchStream.Queued queued;
    /** Position in the exact-key list it is registered in; -1 when it is in the range tree. */
    int slot = -1;

    Watcher(long id, WatchStream stream, ByteString key, byte[] end, boolean noPut, boolean noDelete,
            boolean prevKv, boolean fragment, boolean progressNotify, long nextRevision, long createdAt) {
        this.id = id;
        this.stream = stream;
        this.key = key;
        this.start = key.toByteArray();
        this.end = end;
        this.noPut = noPut;
        this.noDelete = noDelete;
        this.prevKv = prevKv;
        this.fragment = fragment;
        this.progressNotify = progressNotify;
        this.idField = WatchOut.int64Field(2, id);
        this.nextRevision = nextRevision;
        this.createdAt = createdAt;
    }

    boolean isSingleKey() {
        return end == null;
    }

    /** Whether the event's type passes the filters (the key is matched by the registry). */
    boolean acceptsType(Event e) {
        return e.getType() == Event.EventType.PUT ? !noPut : !noDelete;
    }

    /** Whether the event is one of this watcher's: in its range and not filtered out. */
    boolean accepts(Event e) {
        if (!acceptsType(e)) {
            return false;
        }
        if (end == null) {
            return key.equals(e.getKv().getKey());
        }
        byte[] k = e.getKv().getKey().toByteArray();
        return Arrays.compareUnsigned(start, k) <= 0 && (end.length == 0 || Arrays.compareUnsigned(k, end) < 0);
    }
}
