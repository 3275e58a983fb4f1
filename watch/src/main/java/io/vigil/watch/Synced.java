package io.vigil.watch;

import io.vigil.proto.mvccpb.Event;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The live path (etcd's {@code notify} over the synced group): each published revision's events go
 * to the synced watchers whose range holds their keys, found through the {@link WatcherRegistry},
 * so the cost grows with the matches, not with all watchers. One response per watcher per
 * revision, each event encoded at most twice ({@link EncodedEvents}), the header once.
 *
 * <p>Invariant: a synced watcher's nextRevision is above every revision published before the one
 * being dispatched, so the live path owes it exactly the revisions from the current one on. A
 * watcher whose stream is full does not take the revision: it falls behind to the unsynced group
 * at that revision (etcd would park it among its victims; here the log is its buffer), and catch-up
 * gives it the revision later.
 *
 * <p>Lock: the hub lock; called by the one publishing thread (the dispatcher), in apply order.
 */
final class Synced {
    private final WatcherRegistry registry;
    private final Unsynced unsynced;
    private final WatchEncoder encoder;
    private final WatchMetrics metrics;
    /** A watcher fell behind during the current {@link #dispatch}. */
    private boolean fellBehind;

    Synced(WatcherRegistry registry, Unsynced unsynced, WatchEncoder encoder, WatchMetrics metrics) {
        this.registry = registry;
        this.unsynced = unsynced;
        this.encoder = encoder;
        this.metrics = metrics;
    }

    /**
     * One revision's events to each synced watcher that has not seen the revision. Returns
     * whether a watcher fell behind (so catch-up has work).
     */
    boolean dispatch(long revision, List<Event> events) {
        fellBehind = false;
        EncodedEvents encoded = new EncodedEvents(events);
        byte[] header = encoder.header(revision);
        if (events.size() == 1) {
            Event e = events.get(0);
            int[] only = {0};
            registry.forEachCovering(e.getKv().getKey(), w -> {
                if (w.isSynced() && revision >= w.nextRevision && w.acceptsType(e)) {
                    deliver(w, revision, header, encoded, only, 1);
                }
            });
            return fellBehind;
        }
        // several events (a txn): gather each watcher's share, in sub-revision order
        Map<Watcher, int[]> shares = new IdentityHashMap<>();
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            int index = i;
            registry.forEachCovering(e.getKv().getKey(), w -> {
                if (w.isSynced() && revision >= w.nextRevision && w.acceptsType(e)) {
                    int[] share = shares.computeIfAbsent(w, x -> new int[] {0});
                    if (share.length == share[0] + 1) {
                        share = Arrays.copyOf(share, share.length * 2);
                        shares.put(w, share);
                    }
                    share[++share[0]] = index;
                }
            });
        }
        for (Map.Entry<Watcher, int[]> s : shares.entrySet()) {
            int[] share = s.getValue();
            deliver(s.getKey(), revision, header, encoded, Arrays.copyOfRange(share, 1, share[0] + 1), share[0]);
        }
        return fellBehind;
    }

    /** A full stream does not take the revision: the watcher catches up from it later. */
    private void deliver(Watcher w, long revision, byte[] header, EncodedEvents encoded, int[] indexes, int count) {
        if (!encoder.events(w, header, encoded, indexes, count)) {
            w.fallBehind(revision);
            unsynced.add(w);
            fellBehind = true;
            metrics.slowMoves.increment();
            return;
        }
        w.nextRevision = revision + 1;
    }
}
