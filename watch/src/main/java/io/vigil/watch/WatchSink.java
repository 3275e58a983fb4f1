package io.vigil.watch;

import java.util.List;

/**
 * The transport side of one watch stream (in the server: a gRPC call). The hub calls {@link #send}
 * from one thread at a time per stream, and only after {@link #isReady} said yes; the transport
 * tells the stream when it is ready again ({@link WatchStream#onReady}).
 */
public interface WatchSink {
    /** Whether the transport can take a response now without buffering it beyond its window. */
    boolean isReady();

    void send(WatchOut response);

    /**
     * Several responses, to leave in this order; a transport that can write them at once (one
     * buffer, one flush) overrides this. Called like {@link #send}, after {@link #isReady} said yes.
     */
    default void send(List<WatchOut> responses) {
        for (WatchOut r : responses) {
            send(r);
        }
    }

    /**
     * The stream has room for the responses of one more client request: ask the transport for the
     * next one. Requests are asked for one at a time, so a client that sends but does not read
     * stops being read from instead of growing the server's buffers.
     */
    void requestNext();

    /**
     * Runs {@code task} (the stream's send loop) on the thread that owns this stream's transport,
     * or inline. The hub hands sending here instead of doing it on its own threads, so that the
     * transport's per-message work runs on the transport's threads, spread over connections.
     */
    default void execute(Runnable task) {
        task.run();
    }
}
