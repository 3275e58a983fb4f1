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
 * at or above it. A synced (live) watcher gets each published revision at or above nextRevision;
 * an unsynced (catching-up) one is fed from the revision log, from nextRevision, until it reaches
 * the published head and joins the synced watchers.
 *
 * <p>States, as etcd's watchable store groups its watchers (Vigil has no victims: a watcher whose
 * stream is full goes back to unsynced at its own nextRevision, the log being its buffer):
 * <pre>
 *   new ──(start past the published head)──▶ SYNCED ──fallBehind──▶ UNSYNCED ──sync──▶ SYNCED
 *   new ──(start at or below it)───────────▶ UNSYNCED
 *   SYNCED or UNSYNCED ──cancel──▶ CANCELED (final)
 * </pre>
 * Each transition has one method, and an illegal one is a bug: it throws. A watcher is in the
 * unsynced group ({@link Unsynced}) exactly while it is UNSYNCED, and in the key index
 * ({@link WatcherRegistry}) exactly while it is not CANCELED.
 */
final class Watcher {
    enum State {
        /** Behind the published head: fed from the revision log by catch-up. */
        UNSYNCED,
        /** At the published head: fed each published revision by the live path. */
        SYNCED,
        /** Canceled by the client, by compaction or with its stream: gets nothing more. */
        CANCELED
    }

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

    private static final State[] STATES = State.values();

    long nextRevision;
    /**
     * The {@link State}'s ordinal: a byte fits beside the boolean fields, where an enum reference
     * would add 8 bytes to every watcher (72 to 80 with compressed oops; see WatcherMemory).
     */
    private byte state;
    /** Something was sent since the last progress_notify tick (etcd then skips the notice). */
    boolean sentSinceTick;
    /**
     * Its newest events response still queued on its stream, which may take its next events
     * while it waits (see WatchStream, "Merging"); null once a drain took it. Guarded by the
     * stream's outbound queue monitor.
     */
    QueuedResponse queued;
    /** Position in the exact-key list it is registered in; -1 when it is in the range tree. */
    int slot = -1;

    Watcher(long id, WatchStream stream, ByteString key, byte[] end, boolean noPut, boolean noDelete,
            boolean prevKv, boolean fragment, boolean progressNotify, long nextRevision, long createdAt, boolean synced) {
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
        this.state = (byte) (synced ? State.SYNCED : State.UNSYNCED).ordinal();
    }

    State state() {
        return STATES[state];
    }

    boolean isSynced() {
        return state == State.SYNCED.ordinal();
    }

    /** UNSYNCED → SYNCED: catch-up brought it past the published head; the live path takes over. */
    void sync() {
        transition(State.UNSYNCED, State.SYNCED);
    }

    /**
     * SYNCED → UNSYNCED: its stream was full when the live path had {@code revision} for it, so it
     * catches up from there.
     */
    void fallBehind(long revision) {
        transition(State.SYNCED, State.UNSYNCED);
        nextRevision = revision;
    }

    /** SYNCED or UNSYNCED → CANCELED. Returns the state it left. */
    State cancel() {
        State was = state();
        if (was == State.CANCELED) {
            throw new IllegalStateException("watcher " + id + " canceled twice");
        }
        state = (byte) State.CANCELED.ordinal();
        return was;
    }

    private void transition(State from, State to) {
        if (state() != from) {
            throw new IllegalStateException("watcher " + id + " is " + state() + ", not " + from + ", so it cannot become " + to);
        }
        state = (byte) to.ordinal();
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
