package io.vigil.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.client.recipes.ConfigWatcher;
import io.vigil.testkit.FaultProxy;
import io.vigil.testkit.LocalServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The config watcher recipe against Vigil and a real etcd: a burst of writes reloads fewer times
 * than it wrote and ends on the last value; a value that does not parse, or a deleted key, is
 * told as an error and the last good value stays; a change made while the watcher was cut off,
 * its history compacted since, is loaded from a fresh read.
 */
class ConfigWatcherTest {
    static final List<String> SERVERS = Servers.NAMES;
    /** Long next to a burst of puts in a tight loop; no assertion depends on how long anything took. */
    static final Duration DEBOUNCE = Duration.ofSeconds(1);

    @TempDir
    Path tmp;

    private final ExecutorService listenerThreads = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopListeners() {
        listenerThreads.shutdownNow();
    }

    /** Records reloads and errors. */
    static final class Reloads implements ConfigWatcher.Listener<Integer> {
        final List<Integer> values = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();

        @Override
        public void onReload(Integer value) {
            values.add(value);
        }

        @Override
        public void onError(String text, RuntimeException error) {
            errors.add(String.valueOf(text));
        }

        Integer last() {
            return values.isEmpty() ? null : values.get(values.size() - 1);
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void reloadsDebouncedAndKeepsTheLastGoodValue(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server)) {
            client.kv().put("config/limit", "1");
            Reloads reloads = new Reloads();
            try (ConfigWatcher<Integer> limit = new ConfigWatcher<>(client, "config/limit", Integer::parseInt, DEBOUNCE,
                    listenerThreads, reloads)) {
                limit.start();
                assertEquals(1, limit.current());
                await().atMost(WatchTest.PATIENCE).until(() -> Integer.valueOf(1).equals(reloads.last()));

                int burst = 20;
                for (int i = 2; i <= burst + 1; i++) {
                    client.kv().put("config/limit", Integer.toString(i));
                }
                await().atMost(WatchTest.PATIENCE).until(() -> Integer.valueOf(burst + 1).equals(reloads.last()));
                assertEquals(burst + 1, limit.current());
                assertTrue(reloads.values.size() - 1 < burst, "a burst reloads fewer times than it wrote: " + reloads.values);

                client.kv().put("config/limit", "many");
                await().atMost(WatchTest.PATIENCE).until(() -> reloads.errors.contains("many"));
                assertEquals(burst + 1, limit.current());

                client.kv().put("config/limit", "7");
                await().atMost(WatchTest.PATIENCE).until(() -> Integer.valueOf(7).equals(reloads.last()));
                client.kv().delete("config/limit");
                await().atMost(WatchTest.PATIENCE).until(() -> reloads.errors.contains("null"));
                assertEquals(7, limit.current());
                assertTrue(reloads.errors.equals(List.of("many", "null")), reloads.errors.toString());
            }
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void aChangeWhoseHistoryWasCompactedIsStillLoaded(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient direct = Servers.client(server);
             FaultProxy proxy = FaultProxy.start(server.clientPort());
             VigilClient through = VigilClient.builder().endpoints("127.0.0.1:" + proxy.port()).build()) {
            direct.kv().put("config/limit", "1");
            Reloads reloads = new Reloads();
            try (ConfigWatcher<Integer> limit = new ConfigWatcher<>(through, "config/limit", Integer::parseInt, DEBOUNCE,
                    listenerThreads, reloads)) {
                limit.start();
                proxy.cut();
                direct.kv().put("config/limit", "2");
                long r = direct.kv().put("config/limit", "3").revision();
                direct.kv().compact(r);
                proxy.unblock();
                await().atMost(WatchTest.PATIENCE).until(() -> Integer.valueOf(3).equals(reloads.last()));
                assertEquals(List.of(1, 3), reloads.values);
                assertEquals(List.of(), reloads.errors);
            }
        }
    }
}
