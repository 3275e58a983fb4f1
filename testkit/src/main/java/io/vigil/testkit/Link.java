package io.vigil.testkit;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The faults of one direction of traffic (e.g. what member A sends to member B), shared by every
 * connection of a {@link FaultProxy} whose bytes in that direction it governs. Until
 * {@link #unblock()}:
 * <ul>
 *   <li>{@link #block()}: a blackhole that holds bytes (TCP retransmitting into a partition that
 *       heals before it gives up): nothing crosses, nothing is lost, nothing is closed.</li>
 *   <li>{@link #drop()}: a blackhole that loses bytes (a partition that outlasts TCP's patience).
 *       A byte stream cannot skip bytes and stay meaningful, so every connection that lost bytes
 *       is reset when the drop ends, as TCP would reset it after its retransmissions time out;
 *       the sender's writes succeed meanwhile, as they do into a kernel buffer.</li>
 * </ul>
 * and {@link #delay(Duration)}: each chunk is delivered no earlier than that long after it
 * arrived (one-way latency; throughput is not limited by it).
 */
public final class Link {
    enum Mode { OPEN, BLACKHOLE, DROP }

    private final String name;
    /** Guards mode and delay changes and the damaged list; writers wait on it while blocked. */
    private final Object gate = new Object();
    private volatile Mode mode = Mode.OPEN;
    private volatile long delayNanos;
    /** Resets of connections that lost bytes during the current drop; run when it ends. */
    private final Set<Runnable> damaged = new LinkedHashSet<>();

    public Link(String name) {
        this.name = name;
    }

    public void block() {
        setMode(Mode.BLACKHOLE);
    }

    public void drop() {
        setMode(Mode.DROP);
    }

    /** Forwards again: held bytes go first, in order; connections that lost bytes are reset. */
    public void unblock() {
        setMode(Mode.OPEN);
    }

    /** Adds {@code d} of one-way latency to every chunk that arrives from now on (zero: none). */
    public void delay(Duration d) {
        synchronized (gate) {
            delayNanos = d.toNanos();
            gate.notifyAll();
        }
    }

    public boolean isBlocked() {
        return mode != Mode.OPEN;
    }

    public Duration delay() {
        return Duration.ofNanos(delayNanos);
    }

    private void setMode(Mode next) {
        List<Runnable> resets;
        synchronized (gate) {
            Mode previous = mode;
            mode = next;
            gate.notifyAll();
            if (previous != Mode.DROP || next == Mode.DROP) {
                return;
            }
            resets = List.copyOf(damaged);
            damaged.clear();
        }
        resets.forEach(Runnable::run);
    }

    /** When a chunk read now may be written: now plus the delay. */
    long due() {
        return System.nanoTime() + delayNanos;
    }

    /**
     * Whether a chunk just read is lost: true during a drop, and then {@code reset} (one instance
     * per connection: it runs once however many chunks were lost) runs when the drop ends.
     */
    boolean dropping(Runnable reset) {
        synchronized (gate) {
            if (mode != Mode.DROP) {
                return false;
            }
            damaged.add(reset);
            return true;
        }
    }

    /**
     * Returns once a chunk due at {@code due} may be written: not blackholed and the delay passed.
     * A chunk that waits here through a drop is delivered after it (it was already in flight).
     *
     * @throws InterruptedException when the connection is closed meanwhile (its threads are interrupted)
     */
    void awaitPassable(long due) throws InterruptedException {
        synchronized (gate) {
            while (true) {
                if (mode != Mode.OPEN && mode != Mode.DROP) {
                    gate.wait();
                    continue;
                }
                long left = due - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(gate, left);
            }
        }
    }

    @Override
    public String toString() {
        long ms = TimeUnit.NANOSECONDS.toMillis(delayNanos);
        return name + (mode == Mode.OPEN ? "" : " " + mode) + (ms == 0 ? "" : " +" + ms + "ms");
    }
}
