package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two processes on one data directory would corrupt it: the second must refuse to start. */
class DataDirLockTest {
    @TempDir
    Path tmp;

    @Test
    void aSecondServerOnTheSameDataDirRefusesToStart() throws Exception {
        Path dir = tmp.resolve("data");
        try (VigilProcess first = VigilProcess.start(dir)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
                // should it start after all, stop it rather than leave it running past the test
                VigilProcess.start(dir).close();
            });
            assertTrue(e.getMessage().contains("is in use by another Vigil process"), e.getMessage());
            assertTrue(first.isAlive());
        }
        // the lock goes with the process: the directory is usable again
        VigilProcess.start(dir).close();
    }
}
