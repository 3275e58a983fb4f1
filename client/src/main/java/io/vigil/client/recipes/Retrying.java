package io.vigil.client.recipes;

import io.vigil.client.VigilException;
import java.util.function.BooleanSupplier;

/**
 * The recipes' one retry loop, for work that must eventually be done (a list, a registration):
 * the attempt runs until it completes without a {@link VigilException}, backing off from 50 ms,
 * doubling, to 2 s between tries; it gives up when {@code stopped} says so or the thread is
 * interrupted (its owner closing).
 */
final class Retrying {
    static final long BACKOFF_MIN_MS = 50;
    static final long BACKOFF_MAX_MS = 2000;

    private Retrying() {
    }

    static void untilDone(BooleanSupplier stopped, Runnable attempt) {
        long backoff = BACKOFF_MIN_MS;
        while (!stopped.getAsBoolean()) {
            try {
                attempt.run();
                return;
            } catch (VigilException e) {
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException closing) {
                    return;
                }
                backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
            }
        }
    }
}
