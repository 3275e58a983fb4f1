package io.vigil.watch;

import io.vigil.revlog.History;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The unsynced group (etcd's {@code unsynced}): the watchers behind the published head, caught up
 * from the revision log in chunks, then moved to the synced state.
 *
 * <p>Invariants: a watcher is in this group exactly while it is {@link Watcher.State#UNSYNCED},
 * and each stream's {@link WatchStream#catchingUp} counts its watchers here. A watcher leaves
 * only by {@link #feed} bringing it past the published head (so it joins the synced watchers in
 * the same critical section in which its position passed the head: no gap, no duplicate) or by
 * being canceled.
 *
 * <p>Lock: the hub lock, for every method. The history read itself happens between
 * {@link #nextRead} and {@link #feed}, outside the lock, on the catch-up thread.
 */
final class Unsynced {
    /** Where the next history read starts, and whether it must carry prev_kv. */
    record Read(long from, boolean prevKv) {
    }

    private final Set<Watcher> watchers = new LinkedHashSet<>();
    private final WatchEncoder encoder;
    private final Progress progress;
    private final WatchMetrics metrics;

    Unsynced(WatchEncoder encoder, Progress progress, WatchMetrics metrics) {
        this.encoder = encoder;
        this.progress = progress;
        this.metrics = metrics;
    }

    /** w, just created behind the head or just fallen behind, joins the group. */
    void add(Watcher w) {
        if (w.state() != Watcher.State.UNSYNCED) {
            throw new IllegalStateException("watcher " + w.id + " is " + w.state() + ", not unsynced");
        }
        watchers.add(w);
        w.stream.addCatchingUp(1);
        metrics.catchingUp.incrementAndGet();
    }

    /** w, which was in the group, left its UNSYNCED state (synced or canceled). */
    void remove(Watcher w, long lastPublished) {
        watchers.remove(w);
        w.stream.addCatchingUp(-1);
        metrics.catchingUp.decrementAndGet();
        progress.unsyncedLeft(w.stream, lastPublished);
    }

    /**
     * The oldest position among the watchers whose stream has room, and whether any of those
     * wants prev_kv; null if none can take anything now.
     */
    Read nextRead() {
        long from = Long.MAX_VALUE;
        boolean wantPrevKv = false;
        for (Watcher w : watchers) {
            if (w.stream.hasRoomForCatchUp()) {
                from = Math.min(from, w.nextRevision);
                wantPrevKv |= w.prevKv;
            }
        }
        return from == Long.MAX_VALUE ? null : new Read(from, wantPrevKv);
    }

    /** The watchers positioned below compactRevision: their history is gone. */
    List<Watcher> behind(long compactRevision) {
        List<Watcher> behind = new ArrayList<>();
        for (Watcher w : watchers) {
            if (w.nextRevision < compactRevision) {
                behind.add(w);
            }
        }
        return behind;
    }

    /**
     * Hands history [read.from, through] to each watcher of the group positioned inside it, and
     * syncs those it brought past lastPublished. The history is cut at lastPublished: the log may
     * be ahead of the live path, and a watcher must not be told of a revision (in a header) that a
     * later progress notice would go back on. A watcher that wants prev_kv is skipped when the
     * read was made without (it joined the candidates after the read began); the next round
     * reads with it.
     */
    void feed(Read read, History history, long lastPublished) {
        long through = Math.min(history.throughRevision(), lastPublished);
        EncodedEvents encoded = new EncodedEvents(history.events());
        byte[] header = encoder.chunkHeader(through);
        int[] indexes = new int[encoded.size()];
        List<Watcher> joined = new ArrayList<>();
        for (Watcher w : watchers) {
            // a watcher whose stream filled meanwhile waits; history is not going anywhere
            if (w.nextRevision < read.from() || w.nextRevision > through || !w.stream.hasRoomForCatchUp()
                    || (w.prevKv && !read.prevKv())) {
                continue;
            }
            int count = 0;
            for (int i = 0; i < encoded.size() && encoded.revision(i) <= through; i++) {
                if (encoded.revision(i) >= w.nextRevision && w.accepts(encoded.event(i))) {
                    indexes[count++] = i;
                }
            }
            if (count > 0 && !encoder.events(w, header, encoded, indexes, count)) {
                continue; // the stream filled under the budget shared with others: read again later
            }
            w.nextRevision = through + 1;
            if (w.nextRevision > lastPublished) {
                joined.add(w);
            }
        }
        for (Watcher w : joined) {
            w.sync();
            remove(w, lastPublished);
        }
    }
}
