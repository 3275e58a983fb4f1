package io.vigil.client.recipes;

import io.vigil.client.Compare;
import io.vigil.client.KeyValue;
import io.vigil.client.Op;
import io.vigil.client.OpResult;
import io.vigil.client.VigilClient;
import io.vigil.client.VigilException;
import io.vigil.client.Watch;
import io.vigil.client.WatchEvent;
import io.vigil.client.WatchListener;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The queue under Go's concurrency.Mutex and Election: each contender owns one key under a
 * prefix, created under its lease; the keys' create revisions order the contenders, and the one
 * with the lowest holds. A contender waits only for the deletion of the key just before its own
 * (not for the holder's), so a release wakes one waiter, not all of them.
 */
final class Queue {
    private Queue() {
    }

    /** A contender's place: its key's create revision, and whether this call created it. */
    record Place(long createRevision, boolean created) {
    }

    /**
     * Creates {@code key} under the lease unless it exists (so a call repeated after an unknown
     * outcome keeps the place it may have taken); answers the key's place.
     */
    static Place enqueue(VigilClient client, String key, String value, long leaseId) {
        OpResult.Txn t = client.kv().txn().when(Compare.createRevision(key).equalTo(0))
                .then(Op.put(key, value).lease(leaseId)).orElse(Op.get(key)).commit();
        if (t.succeeded()) {
            return new Place(t.revision(), true); // the transaction's revision: the put created the key at it
        }
        return new Place(((OpResult.Get) t.results().get(0)).single().createRevision(), false);
    }

    /** The key with the lowest create revision under {@code prefix}: the holder; null when none. */
    static KeyValue first(VigilClient client, String prefix) {
        KeyValue first = null;
        for (KeyValue kv : client.kv().getPrefix(prefix).kvs()) {
            if (first == null || kv.createRevision() < first.createRevision()) {
                first = kv;
            }
        }
        return first;
    }

    /**
     * Waits until no key under {@code prefix} was created before {@code mine}: each time, for the
     * deletion of the latest one that was, then looks again.
     *
     * @throws TimeoutException if that did not happen by {@code deadlineNanos} (System.nanoTime())
     */
    static void awaitPredecessors(VigilClient client, String prefix, long mine, long deadlineNanos)
            throws InterruptedException, TimeoutException {
        while (true) {
            OpResult.Get all = client.kv().get(Op.getPrefix(prefix).keysOnly());
            KeyValue before = null;
            for (KeyValue kv : all.kvs()) {
                if (kv.createRevision() < mine && (before == null || kv.createRevision() > before.createRevision())) {
                    before = kv;
                }
            }
            if (before == null) {
                return;
            }
            CountDownLatch gone = new CountDownLatch(1);
            try (Watch w = client.watches().watch(Op.get(before.key()), all.revision() + 1, new WatchListener() {
                @Override
                public void onEvents(long revision, List<WatchEvent> events) {
                    if (events.stream().anyMatch(e -> e.type() == WatchEvent.Type.DELETE)) {
                        gone.countDown();
                    }
                }

                @Override
                public void onCompacted(long compactRevision) {
                    gone.countDown(); // look again
                }

                @Override
                public void onError(VigilException error) {
                    gone.countDown(); // look again
                }
            })) {
                if (!gone.await(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                    throw new TimeoutException("still waiting for " + before.key() + " to go");
                }
            }
        }
    }
}
