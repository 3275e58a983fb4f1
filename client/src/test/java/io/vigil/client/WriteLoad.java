package io.vigil.client;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Puts and deletes under a prefix, one after another, until closed, through whatever is down: a
 * write whose outcome is unknown may or may not show up, and a watch must tell the truth either
 * way. While writes fail it paces itself (this is load, not a wait for a condition).
 */
final class WriteLoad implements AutoCloseable {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong acknowledged = new AtomicLong();
    private final Thread thread;

    WriteLoad(VigilClient writer, String prefix) {
        thread = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) {
                try {
                    String key = prefix + (i % 40);
                    long r = i % 7 == 6 ? writer.kv().delete(key).revision() : writer.kv().put(key, "v" + i).revision();
                    acknowledged.accumulateAndGet(r, Math::max);
                } catch (VigilException e) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                }
            }
        }, "write-load");
        thread.start();
    }

    /** The highest revision a write was acknowledged at. */
    long acknowledged() {
        return acknowledged.get();
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        thread.join();
    }
}
