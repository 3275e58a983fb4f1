package io.vigil.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.testkit.LocalServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Resuming watches against Vigil and a real etcd: across SIGKILLs and restarts of the server under
 * write load every revision is told exactly once, in order, and a cache built from the events
 * equals the store; a compacted start is told as such; a listener that blocks holds back only its
 * own watch (jetcd #1089: blocking inside a listener hung its event loop).
 */
class WatchTest {
    static final List<String> SERVERS = Servers.NAMES;
    /** How long the tests wait for what must happen (a hang guard, never a timing). */
    static final Duration PATIENCE = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @ParameterizedTest
    @FieldSource("SERVERS")
    void everyRevisionExactlyOnceAcrossServerCrashes(String name) throws Exception {
        try (LocalServer server = Servers.start(name, tmp);
             VigilClient writer = VigilClient.builder().endpoints(server.endpoint()).callTimeout(Duration.ofSeconds(2)).build();
             VigilClient watcher = Servers.client(server)) {
            long start = writer.kv().put("k/start", "0").revision();
            Recorder recorder = new Recorder();
            Watch watch = watcher.watches().watch(Op.getPrefix("k/"), start, recorder);

            try (WriteLoad load = new WriteLoad(writer, "k/")) {
                for (int crash = 0; crash < 2; crash++) {
                    int before = recorder.size();
                    await().atMost(PATIENCE).until(() -> recorder.size() >= before + 50);
                    server.kill();
                    server.restart();
                }
                int before = recorder.size();
                await().atMost(PATIENCE).until(() -> recorder.size() >= before + 50);
            }
            long last = writer.kv().put("k/end", "end").revision();
            await().atMost(PATIENCE).until(() -> recorder.reached(last));
            watch.close();

            recorder.assertIsTheHistory(watcher, "k/", start, last);
            assertNull(recorder.error());
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void aCompactedStartIsToldNotSkipped(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server)) {
            long first = client.kv().put("c/1", "a").revision();
            client.kv().put("c/2", "b");
            long third = client.kv().put("c/3", "c").revision();
            client.kv().compact(third);
            Recorder recorder = new Recorder();
            client.watches().watch(Op.getPrefix("c/"), first, recorder);
            await().atMost(PATIENCE).until(() -> recorder.compactedAt() >= 0);
            assertEquals(third, recorder.compactedAt());
            assertEquals(List.of(), recorder.told());
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void aBlockingListenerHoldsBackOnlyItsOwnWatch(String name) throws Exception {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server)) {
            CountDownLatch release = new CountDownLatch(1);
            Recorder slow = new Recorder() {
                @Override
                public void onEvents(long revision, List<WatchEvent> events) {
                    super.onEvents(revision, events);
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            Recorder other = new Recorder();
            // from the next revision, so the puts below are seen however soon the watches start
            long next = client.kv().getPrefix("slow/").revision() + 1;
            client.watches().watch(Op.getPrefix("slow/"), next, slow);
            client.watches().watch(Op.getPrefix("other/"), next, other);
            client.kv().put("slow/1", "blocks its listener");
            await().atMost(PATIENCE).until(() -> slow.size() == 1);
            client.kv().put("slow/2", "waits behind it");
            long r = client.kv().put("other/1", "told meanwhile").revision();
            await().atMost(PATIENCE).until(() -> other.reached(r));
            assertEquals(1, slow.size());
            release.countDown();
            await().atMost(PATIENCE).until(() -> slow.size() == 2);
        }
    }

}
