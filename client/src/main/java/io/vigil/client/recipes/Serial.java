package io.vigil.client.recipes;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks one at a time, in the order given, on a user's executor, so that callbacks keep
 * the order of the changes they tell whatever the executor (a pool, or a direct one). A task
 * that throws is reported to its thread's uncaught-exception handler and the next one runs; once
 * the executor refuses work, tasks are dropped. (The client's own SerialExecutor is
 * package-private to it; the recipes keep to the client's public API.)
 */
final class Serial implements Executor {
    private final Executor underlying;
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private boolean running;

    Serial(Executor underlying) {
        this.underlying = underlying;
    }

    @Override
    public void execute(Runnable task) {
        synchronized (tasks) {
            tasks.add(task);
            if (running) {
                return;
            }
            running = true;
        }
        try {
            underlying.execute(this::drain);
        } catch (RejectedExecutionException shutDown) {
            synchronized (tasks) {
                tasks.clear();
                running = false;
            }
        }
    }

    private void drain() {
        while (true) {
            Runnable next;
            synchronized (tasks) {
                next = tasks.poll();
                if (next == null) {
                    running = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (RuntimeException e) {
                Thread t = Thread.currentThread();
                t.getUncaughtExceptionHandler().uncaughtException(t, e);
            }
        }
    }
}
