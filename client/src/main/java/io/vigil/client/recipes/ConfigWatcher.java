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
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One key read as typed configuration and reloaded when it changes. Changes are debounced: the
 * first change after a quiet spell opens a window, and when it closes the value is parsed once,
 * as the last change in the window left it; so a burst of writes reloads once, and a value never
 * waits more than one window. A value that does not parse (or a deleted key) keeps the last good
 * value and is told to {@link Listener#onError}.
 *
 * <pre>{@code
 * ConfigWatcher<Limits> limits = new ConfigWatcher<>(client, "config/limits", Limits::parse,
 *         Duration.ofMillis(500), executor, Limits.listener(server));
 * limits.start();
 * int max = limits.current().maxConnections();
 * }</pre>
 */
public final class ConfigWatcher<T> implements AutoCloseable {
    /** Told on the executor given, one call at a time, in order. */
    public interface Listener<T> {
        /** The key holds a new value (or, the first time, its value at start). */
        void onReload(T value);

        /** The key's new text did not parse ({@code text} null: the key was deleted); the last good value stays. */
        default void onError(String text, RuntimeException error) {
        }
    }

    private static final long RESTART_PAUSE_MS = 500;

    private final VigilClient client;
    private final String key;
    private final Function<String, T> parser;
    private final long debounceNanos;
    private final SerialExecutor calls;
    private final Listener<T> listener;
    /** Closes debounce windows and restarts the watch; one thread, so reloads happen in order. */
    private final ScheduledExecutorService timer = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "vigil-config-watcher");
        t.setDaemon(true);
        return t;
    });
    private volatile T current;
    // guarded by this
    /** The key as the last change left it (null: deleted), not yet parsed; pending says whether there is one. */
    private KeyValue latest;
    private boolean pending;
    private boolean closed;
    private Watch watch;

    public ConfigWatcher(VigilClient client, String key, Function<String, T> parser, Duration debounce, Executor executor,
                         Listener<T> listener) {
        this.client = client;
        this.key = key;
        this.parser = parser;
        this.debounceNanos = debounce.toNanos();
        this.calls = new SerialExecutor(executor);
        this.listener = listener;
    }

    /** Reads and parses the key now (throws if it cannot be read), then watches it. */
    public void start() {
        OpResult.Get read = client.kv().get(Op.get(key));
        synchronized (this) {
            latest = read.single();
            pending = true;
        }
        reload();
        watchFrom(read.revision() + 1);
    }

    /** The last value that parsed; null if none did yet. */
    public T current() {
        return current;
    }

    @Override
    public void close() {
        Watch w;
        synchronized (this) {
            closed = true;
            w = watch;
        }
        if (w != null) {
            w.close();
        }
        timer.shutdownNow();
    }

    private synchronized void watchFrom(long revision) {
        if (!closed) {
            watch = client.watches().watch(Op.get(key), revision, new Changes());
        }
    }

    /** A change seen: the first of a window schedules the reload at the window's end. */
    private void changed(KeyValue now) {
        synchronized (this) {
            latest = now;
            if (pending || closed) {
                return;
            }
            pending = true;
        }
        try {
            timer.schedule(this::reload, debounceNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            // closed meanwhile
        }
    }

    /** Parses the latest text; on success it becomes current and is told, else the error is. */
    private void reload() {
        KeyValue kv;
        synchronized (this) {
            if (!pending || closed) {
                return;
            }
            pending = false;
            kv = latest;
        }
        if (kv == null) {
            calls.execute(() -> listener.onError(null, new NoSuchElementException(key + " does not exist")));
            return;
        }
        String text = kv.value();
        T value;
        try {
            value = parser.apply(text);
        } catch (RuntimeException e) {
            calls.execute(() -> listener.onError(text, e));
            return;
        }
        current = value;
        calls.execute(() -> listener.onReload(value));
    }

    /** The key's watch; a compacted or failed one is replaced by a fresh read and watch. */
    private final class Changes implements WatchListener {
        @Override
        public void onEvents(long revision, List<WatchEvent> events) {
            WatchEvent last = events.get(events.size() - 1);
            changed(last.type() == WatchEvent.Type.PUT ? last.kv() : null);
        }

        @Override
        public void onCompacted(long compactRevision) {
            restartLater();
        }

        @Override
        public void onError(VigilException error) {
            restartLater();
        }

        private void restartLater() {
            try {
                timer.schedule(this::restart, RESTART_PAUSE_MS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                // closed meanwhile
            }
        }

        /**
         * On the timer: reads the key, a change (debounced like any) unless it is as last seen, then
         * watches from after the read.
         */
        private void restart() {
            try {
                OpResult.Get read = client.kv().get(Op.get(key));
                KeyValue now = read.single();
                boolean same;
                synchronized (ConfigWatcher.this) {
                    same = latest == null ? now == null : now != null && now.modRevision() == latest.modRevision();
                }
                if (!same) {
                    changed(now);
                }
                watchFrom(read.revision() + 1);
            } catch (VigilException e) {
                restartLater();
            }
        }
    }
}
