package io.vigil.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** The watcher's states: each transition from where it is legal, and an illegal one throws. */
class WatcherStateTest {
    private static Watcher watcher(boolean synced) {
        return new Watcher(1, null, ByteString.copyFromUtf8("k"), null, false, false, false, false, false,
                5, 4, synced);
    }

    @Test
    void anUnsyncedWatcherSyncsFallsBehindAndIsCanceledOnce() {
        Watcher w = watcher(false);
        assertEquals(Watcher.State.UNSYNCED, w.state());
        w.sync();
        assertEquals(Watcher.State.SYNCED, w.state());
        w.fallBehind(9);
        assertEquals(Watcher.State.UNSYNCED, w.state());
        assertEquals(9, w.nextRevision);
        assertEquals(Watcher.State.UNSYNCED, w.cancel());
        assertEquals(Watcher.State.CANCELED, w.state());
        assertThrows(IllegalStateException.class, w::cancel);
        assertThrows(IllegalStateException.class, w::sync);
        assertThrows(IllegalStateException.class, () -> w.fallBehind(10));
    }

    @Test
    void aSyncedWatcherCannotSyncAndAnUnsyncedOneCannotFallBehind() {
        Watcher synced = watcher(true);
        assertThrows(IllegalStateException.class, synced::sync);
        assertEquals(Watcher.State.SYNCED, synced.cancel());
        Watcher unsynced = watcher(false);
        assertThrows(IllegalStateException.class, () -> unsynced.fallBehind(5));
        assertEquals(Watcher.State.UNSYNCED, unsynced.state());
    }
}
