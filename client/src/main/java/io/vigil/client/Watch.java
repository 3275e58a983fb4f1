package io.vigil.client;

/** A running watch; closing it ends it (no callback follows the close). */
public interface Watch extends AutoCloseable {
    /** The first revision not yet told to the listener: where the watch would resume. */
    long nextRevision();

    @Override
    void close();
}
