package io.vigil.client.recipes;

import io.vigil.client.KeyValue;
import io.vigil.client.Op;
import io.vigil.client.OpResult;
import io.vigil.client.SerialExecutor;
import io.vigil.client.VigilClient;
import io.vigil.client.VigilException;
import io.vigil.client.Watch;
import io.vigil.client.WatchEvent;
import io.vigil.client.WatchListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A local cache of every key under a prefix, kept current by a watch, as Kubernetes' informers
 * keep theirs: it lists the prefix at a revision, then watches from the next one, so the cache
 * goes through every revision of the store, in order, none missed and none twice. When the
 * history it needs was compacted away it lists again and tells the difference as adds, updates
 * and deletes, then watches from the new list's revision.
 *
 * <pre>{@code
 * Informer<Pod> pods = new Informer<>(client, "pods/", kv -> Pod.parse(kv.value()), executor);
 * pods.addIndex("node", Pod::node);
 * pods.addHandler(new Informer.Handler<>() {
 *     public void onAdd(Pod p) { schedule(p); }
 * });
 * pods.start();
 * List<Pod> onNode = pods.byIndex("node", "n1");
 * }</pre>
 *
 * <p>Handlers run on the executor given, one call at a time, in the order of the changes; the
 * cache has already changed when they run. (With a direct executor they would run on the watch's
 * thread holding the cache's lock: give a real one.) Reads of the cache ({@link #get}, {@link #list},
 * {@link #byIndex}) are thread-safe and never block on the network. The decoder must not throw:
 * a value it cannot read should decode to something the application recognises.
 */
public final class Informer<T> implements AutoCloseable {
    /** Changes to the cache, in order, one call at a time. */
    public interface Handler<T> {
        default void onAdd(T now) {
        }

        default void onUpdate(T old, T now) {
        }

        default void onDelete(T last) {
        }
    }


    private final VigilClient client;
    private final String prefix;
    private final Function<KeyValue, T> decoder;
    private final SerialExecutor handlerCalls;
    private final List<Handler<T>> handlers = new CopyOnWriteArrayList<>();
    /** Lists and relists, off the watch's thread; retries until it succeeds or the informer closes. */
    private final ExecutorService lister = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vigil-informer-lister");
        t.setDaemon(true);
        return t;
    });
    // guarded by this: the cache, its indexes and the revision change together
    private final Cache<T> cache = new Cache<>();
    /** The store's revision the cache reflects; 0 until the first list. */
    private long revision;
    private boolean synced;
    private boolean started;
    private boolean closed;
    /** Counts lists: callbacks of a watch from an earlier list are ignored. */
    private long generation;
    private Watch watch;

    /**
     * @param prefix the keys to cache (e.g. {@code "pods/"})
     * @param decoder a key's value as the application's type
     * @param handlerExecutor where handlers run (one call at a time, in order)
     */
    public Informer(VigilClient client, String prefix, Function<KeyValue, T> decoder, Executor handlerExecutor) {
        this.client = client;
        this.prefix = prefix;
        this.decoder = decoder;
        this.handlerCalls = new SerialExecutor(handlerExecutor);
    }

    /** Adds a handler; one added after {@link #start} hears only of later changes. */
    public Informer<T> addHandler(Handler<T> handler) {
        handlers.add(handler);
        return this;
    }

    /** Adds a secondary index: {@code indexFn} maps a value to its index value (null: not indexed). */
    public synchronized Informer<T> addIndex(String name, Function<T, String> indexFn) {
        cache.addIndex(name, indexFn);
        return this;
    }

    /** Lists and starts watching, in the background; {@link #hasSynced} says when the first list is in. */
    public synchronized void start() {
        if (started) {
            throw new IllegalStateException("started already");
        }
        started = true;
        lister.execute(this::relist);
    }

    /** Whether the cache holds a complete list (from then on it stays current). */
    public synchronized boolean hasSynced() {
        return synced;
    }

    /** The store's revision the cache reflects: moved by lists, events and progress notifications. */
    public synchronized long revision() {
        return revision;
    }

    /** The cached value of {@code key} (the whole key, prefix included), or null. */
    public synchronized T get(String key) {
        Cache.Entry<T> e = cache.get(key);
        return e == null ? null : e.value();
    }

    /** Every cached value, in key order. */
    public synchronized List<T> list() {
        return cache.values();
    }

    /** The cached values whose index {@code name} maps to {@code value}, in key order. */
    public synchronized List<T> byIndex(String name, String value) {
        return cache.byIndex(name, value);
    }

    /** Waits until the cache reflects {@code r} or a later revision; false if it did not within {@code timeout}. */
    public synchronized boolean awaitRevision(long r, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!(synced && revision >= r)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    /**
     * A consistent read from the cache: every value as the store holds them now, i.e. reflecting
     * every write acknowledged before this call. It asks the store (a linearizable read of the
     * prefix's keys and revisions, without values) and waits until the cache either reached that
     * read's revision or holds exactly those keys at those revisions: with no change under the
     * prefix since, a store idle for ten minutes between progress notifications is not waited for.
     * (etcd's WatchProgressRequest would spare the read, but etcd 3.4.23, the version tested,
     * answers it ahead of events still in flight, etcd issue 15220: a cache cannot tell that answer
     * from the truth.) The read costs one key's metadata per cached key.
     *
     * @throws TimeoutException if the cache did not catch up within {@code timeout}
     */
    public List<T> consistentList(Duration timeout) throws TimeoutException, InterruptedException {
        OpResult.Get now = client.kv().get(Op.getPrefix(prefix).keysOnly());
        Map<String, Long> truth = new HashMap<>();
        for (KeyValue kv : now.kvs()) {
            truth.put(kv.key(), kv.modRevision());
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (!(synced && (revision >= now.revision() || cache.holdsExactly(truth)))) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException("the cache did not reach revision " + now.revision() + " within " + timeout);
                }
                wait(Math.max(1, left / 1_000_000));
            }
            return list();
        }
    }

    /** Stops watching; handlers already queued still run. */
    @Override
    public void close() {
        Watch w;
        synchronized (this) {
            closed = true;
            generation++;
            w = watch;
            watch = null;
        }
        if (w != null) {
            w.close();
        }
        lister.shutdownNow();
    }

    /** On the lister: lists until it succeeds, applies the difference, watches from the next revision. */
    private void relist() {
        Retrying.untilDone(this::isClosed, () -> watchFrom(client.kv().getPrefix(prefix)));
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    private synchronized void watchFrom(OpResult.Get listed) {
        if (closed) {
            return;
        }
        Map<String, KeyValue> now = new HashMap<>();
        for (KeyValue kv : listed.kvs()) {
            now.put(kv.key(), kv);
        }
        for (String gone : new ArrayList<>(cache.keys())) {
            if (!now.containsKey(gone)) {
                remove(gone);
            }
        }
        for (KeyValue kv : listed.kvs()) {
            Cache.Entry<T> old = cache.get(kv.key());
            if (old == null || old.modRevision() != kv.modRevision()) {
                put(kv);
            }
        }
        revision = listed.revision();
        synced = true;
        long g = ++generation;
        // the watch is opened under the lock: its first callback waits for it, and finds this generation
        watch = client.watches().watch(Op.getPrefix(prefix), listed.revision() + 1, new Listener(g));
        notifyAll();
    }

    /** Holding the lock: caches the key's new value and tells the handlers. */
    private void put(KeyValue kv) {
        T value = decoder.apply(kv);
        Cache.Entry<T> old = cache.put(kv.key(), kv.modRevision(), value);
        for (Handler<T> h : handlers) {
            handlerCalls.execute(old == null ? () -> h.onAdd(value) : () -> h.onUpdate(old.value(), value));
        }
    }

    /** Holding the lock: drops the key (if cached) and tells the handlers. */
    private void remove(String key) {
        Cache.Entry<T> old = cache.remove(key);
        if (old == null) {
            return;
        }
        for (Handler<T> h : handlers) {
            handlerCalls.execute(() -> h.onDelete(old.value()));
        }
    }

    /** One list's watch: applies its events while it is the current one. */
    private final class Listener implements WatchListener {
        private final long generation;

        Listener(long generation) {
            this.generation = generation;
        }

        @Override
        public void onEvents(long r, List<WatchEvent> events) {
            synchronized (Informer.this) {
                if (generation != Informer.this.generation) {
                    return;
                }
                for (WatchEvent e : events) {
                    if (e.type() == WatchEvent.Type.PUT) {
                        put(e.kv());
                    } else {
                        remove(e.kv().key());
                    }
                }
                revision = r;
                Informer.this.notifyAll();
            }
        }

        @Override
        public void onProgress(long r) {
            synchronized (Informer.this) {
                if (generation == Informer.this.generation && r > revision) {
                    revision = r;
                    Informer.this.notifyAll();
                }
            }
        }

        @Override
        public void onCompacted(long compactRevision) {
            relistLater(0);
        }

        @Override
        public void onError(VigilException error) {
            // the watch ended for a reason retrying it cannot cure (e.g. permission denied): list again, paced
            relistLater(Retrying.BACKOFF_MAX_MS);
        }

        private void relistLater(long pauseMs) {
            synchronized (Informer.this) {
                if (generation != Informer.this.generation || closed) {
                    return;
                }
                watch = null;
            }
            try {
                lister.execute(() -> {
                    try {
                        Thread.sleep(pauseMs);
                    } catch (InterruptedException closing) {
                        return;
                    }
                    relist();
                });
            } catch (RejectedExecutionException closing) {
                // closed meanwhile
            }
        }
    }
}
