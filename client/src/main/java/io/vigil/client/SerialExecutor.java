package io.vigil.client;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks one at a time, in the order given, on an underlying executor (a pool, or a direct
 * one), so that callbacks keep the order of the changes they tell: how the client runs each
 * watch's listener, and how the recipes run their handlers. A task that throws is reported to its
 * thread's uncaught-exception handler and the next one runs; once the underlying executor refuses
 * work (e.g. it was shut down), tasks are dropped.
 */
public final class SerialExecutor implements Executor {
    private final Executor underlying;
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private boolean running;

    public SerialExecutor(Executor underlying) {
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
        } catch (RejectedExecutionException closed) {
            // the client closed its listener threads: nothing more runs
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
