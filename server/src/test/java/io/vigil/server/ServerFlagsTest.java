package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerFlagsTest {
    @Test
    void defaultsAreEtcdLike() {
        ServerConfig c = ServerFlags.parse(new String[0]);
        assertEquals("default", c.name());
        assertEquals(Path.of("vigil.data"), c.dataDir());
        assertEquals(List.of(URI.create("http://127.0.0.1:2379")), c.listenClientUrls());
        assertEquals(c.listenClientUrls(), c.advertiseClientUrls());
        assertEquals(1536 * 1024, c.maxRequestBytes());
        assertEquals(java.time.Duration.ofMillis(100), c.backendBatchInterval());
        assertEquals(10_000, c.backendBatchLimit());
    }

    @Test
    void acceptsEtcdFlagSpellings() {
        ServerConfig c = ServerFlags.parse(new String[] {
            "--name=n1", "-data-dir", "/tmp/x", "--listen-client-urls", "http://127.0.0.1:1,http://localhost:2",
            "--advertise-client-urls=http://10.0.0.1:2379", "--max-txn-ops", "64",
            "--quota-backend-bytes=2147483648", "--backend-batch-interval=25ms", "--backend-batch-limit", "500"});
        assertEquals("n1", c.name());
        assertEquals(Path.of("/tmp/x"), c.dataDir());
        assertEquals(2, c.listenClientUrls().size());
        assertEquals(List.of(URI.create("http://10.0.0.1:2379")), c.advertiseClientUrls());
        assertEquals(64, c.maxTxnOps());
        assertEquals(2L << 30, c.quotaBackendBytes());
        assertEquals(java.time.Duration.ofMillis(25), c.backendBatchInterval());
        assertEquals(500, c.backendBatchLimit());
    }

    @Test
    void mistakesNameTheFlag() {
        assertMessage("unknown flag --listen-peer-url", "--listen-peer-url", "x");
        assertMessage("flag --data-dir needs a value", "--data-dir");
        assertMessage("for flag --listen-client-urls", "--listen-client-urls=127.0.0.1:2379");
        assertMessage("for flag --listen-client-urls", "--listen-client-urls=https://127.0.0.1:2379");
        assertMessage("for flag --advertise-client-urls", "--advertise-client-urls", "http://h:1/path");
        assertMessage("for flag --max-request-bytes", "--max-request-bytes=lots");
        assertMessage("for flag --max-txn-ops", "--max-txn-ops=0");
        assertMessage("for flag --quota-backend-bytes", "--quota-backend-bytes=-5");
        assertMessage("quotaBackendBytes must be at least 1 MiB", "--quota-backend-bytes=1000");
        assertMessage("for flag --backend-batch-limit", "--backend-batch-limit=0");
        assertMessage("for flag --backend-batch-interval", "--backend-batch-interval=0s");
        assertMessage("unexpected argument \"stray\"", "stray");
    }

    private static void assertMessage(String expected, String... args) {
        ServerFlags.FlagException e = assertThrows(ServerFlags.FlagException.class, () -> ServerFlags.parse(args));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
