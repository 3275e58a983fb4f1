package io.vigil.server;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;

/**
 * Callers waiting for their request id to come back (etcd's {@code wait.Wait}), each until its
 * deadline. A caller leaves when its future completes, however that happens; {@link #expire}
 * fails those whose deadline has passed with a {@link TimeoutException} (etcd's "request timed
 * out"). The owner calls it periodically, so a request times out up to one period late.
 *
 * <p>Not {@code CompletableFuture.orTimeout}: that puts a task on the JDK's one timer queue and
 * takes it off again, each under the queue's lock, and wakes the timer thread whenever the queue
 * was empty before: for every request on a member with few concurrent writers.
 *
 * <p>Threads: any.
 */
final class Waits<T> {
    private record Waiting<T>(CompletableFuture<T> done, long deadlineNanos) {
    }

    private final Map<Long, Waiting<T>> byId = new ConcurrentHashMap<>();

    /**
     * Registers {@code done} under {@code id} until it completes or {@link #expire} finds it past
     * {@code deadlineNanos} (on {@link System#nanoTime}'s scale).
     */
    void add(long id, CompletableFuture<T> done, long deadlineNanos) {
        byId.put(id, new Waiting<>(done, deadlineNanos));
        done.whenComplete((r, t) -> byId.remove(id));
    }

    /** Takes the caller waiting for {@code id} out; null when there is none (here). */
    CompletableFuture<T> take(long id) {
        Waiting<T> w = byId.remove(id);
        return w == null ? null : w.done();
    }

    /**
     * The caller waiting for {@code id}, who stays (and may still time out) until its future
     * completes; null when there is none (here).
     */
    CompletableFuture<T> find(long id) {
        Waiting<T> w = byId.get(id);
        return w == null ? null : w.done();
    }

    /** How many wait. */
    int size() {
        return byId.size();
    }

    /** Fails every caller whose deadline is at or before {@code nowNanos} ({@link System#nanoTime}). */
    void expire(long nowNanos) {
        for (Waiting<T> w : byId.values()) {
            if (nowNanos - w.deadlineNanos() >= 0) {
                w.done().completeExceptionally(new TimeoutException("request timed out"));
            }
        }
    }

    /** Fails every caller with {@code cause}. */
    void failAll(Throwable cause) {
        byId.values().forEach(w -> w.done().completeExceptionally(cause));
    }
}
