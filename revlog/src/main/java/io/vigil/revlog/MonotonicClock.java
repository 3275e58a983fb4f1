package io.vigil.revlog;

/**
 * A monotonic clock in nanoseconds, as {@link System#nanoTime()}: only differences mean
 * anything, and it never jumps with the wall clock. Lease expiry is measured on it, so no lease
 * expires early because the wall clock was set back or forth. Tests pass a fake one.
 */
@FunctionalInterface
public interface MonotonicClock {
    MonotonicClock SYSTEM = System::nanoTime;

    long nanoTime();
}
