package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory is one member's: a second process on it, or a member of another name or
 * cluster, must refuse to start and leave it as it was.
 */
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

    @Test
    void aDataDirectoryOfAnotherMemberOrClusterIsRefused() throws Exception {
        Path dir = tmp.resolve("data");
        VigilProcess.start(dir, "--name", "a").close();
        // etcd's member id comes from the peer URLs and the cluster token, not from the name
        IllegalStateException other = assertThrows(IllegalStateException.class,
                () -> VigilProcess.start(dir, "--name", "b", "--initial-advertise-peer-urls", "http://localhost:2390").close());
        assertTrue(other.getMessage().contains("belongs to member a"), other.getMessage());
        IllegalStateException cluster = assertThrows(IllegalStateException.class,
                () -> VigilProcess.start(dir, "--name", "a", "--initial-cluster-token", "another").close());
        assertTrue(cluster.getMessage().contains("belongs to member a"), cluster.getMessage());
        VigilProcess.start(dir, "--name", "a").close();
    }
}
