package io.vigil.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.client.recipes.Informer;
import io.vigil.testkit.FaultProxy;
import io.vigil.testkit.LocalServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The informer recipe against Vigil and a real etcd: its cache, indexes and handlers follow the
 * store change by change; across two SIGKILLs of the server under write load every change is
 * told once, in order, and the cache ends equal to the store; when the history it needs was
 * compacted it lists again and tells the difference; a consistent read reflects another
 * client's acknowledged write, and does not wait for a change when there is none.
 */
class InformerTest {
    static final List<String> SERVERS = Servers.NAMES;

    @TempDir
    Path tmp;

    private final ExecutorService handlerThreads = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopHandlers() {
        handlerThreads.shutdownNow();
    }

    /** What the tests cache: a key, its value and the revision of its last change. */
    record Item(String key, String value, long modRevision) {
        static Item of(KeyValue kv) {
            return new Item(kv.key(), kv.value(), kv.modRevision());
        }
    }

    /** Records every handler call as "ADD k=v@r", "UPDATE k=v@r" or "DELETE k". */
    static final class Told implements Informer.Handler<Item> {
        private final List<String> calls = new ArrayList<>();

        @Override
        public synchronized void onAdd(Item now) {
            calls.add("ADD " + now.key() + "=" + now.value() + "@" + now.modRevision());
        }

        @Override
        public synchronized void onUpdate(Item old, Item now) {
            if (old.modRevision() >= now.modRevision()) {
                throw new AssertionError("update from " + old + " to " + now);
            }
            calls.add("UPDATE " + now.key() + "=" + now.value() + "@" + now.modRevision());
        }

        @Override
        public synchronized void onDelete(Item last) {
            calls.add("DELETE " + last.key());
        }

        synchronized List<String> calls() {
            return List.copyOf(calls);
        }

        synchronized int size() {
            return calls.size();
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void cachesIndexesAndTellsEveryChange(String name) throws Exception {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server);
             VigilClient other = Servers.client(server);
             Informer<Item> pods = new Informer<>(client, "pods/", Item::of, handlerThreads)) {
            long a = client.kv().put("pods/a", "n1").revision();
            long b = client.kv().put("pods/b", "n2").revision();
            client.kv().put("other/x", "n1");
            Told told = new Told();
            pods.addIndex("node", Item::value).addHandler(told).start();
            await().atMost(WatchTest.PATIENCE).until(pods::hasSynced);
            assertEquals(List.of("pods/a", "pods/b"), keys(pods.list()));
            assertEquals(List.of("pods/a"), keys(pods.byIndex("node", "n1")));

            long b2 = client.kv().put("pods/b", "n1").revision();
            long c = client.kv().put("pods/c", "n3").revision();
            long gone = client.kv().delete("pods/a").revision();
            assertTrue(pods.awaitRevision(gone, WatchTest.PATIENCE));
            assertNull(pods.get("pods/a"));
            assertEquals("n1", pods.get("pods/b").value());
            assertEquals(List.of("pods/b"), keys(pods.byIndex("node", "n1")));
            assertEquals(List.of(), pods.byIndex("node", "n2"));
            await().atMost(WatchTest.PATIENCE).until(() -> told.size() == 5);
            assertEquals(List.of("ADD pods/a=n1@" + a, "ADD pods/b=n2@" + b, "UPDATE pods/b=n1@" + b2,
                    "ADD pods/c=n3@" + c, "DELETE pods/a"), told.calls());

            // a write another client saw acknowledged is in a consistent read
            other.kv().put("pods/d", "n1");
            assertEquals(List.of("pods/b", "pods/c", "pods/d"), keys(pods.consistentList(WatchTest.PATIENCE)));
            // with changes elsewhere only, the cache is current without any event to tell it so
            long elsewhere = other.kv().put("other/y", "n1").revision();
            assertEquals(pods.list(), pods.consistentList(WatchTest.PATIENCE));
            assertTrue(pods.revision() < elsewhere);
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void everyChangeOnceAndTheCacheEqualsTheStoreAcrossServerCrashes(String name) throws Exception {
        try (LocalServer server = Servers.start(name, tmp);
             VigilClient writer = VigilClient.builder().endpoints(server.endpoint()).callTimeout(Duration.ofSeconds(2)).build();
             VigilClient watcher = Servers.client(server);
             Informer<Item> informer = new Informer<>(watcher, "k/", Item::of, handlerThreads)) {
            writer.kv().put("k/start", "0");
            Told told = new Told();
            informer.addHandler(told).start();
            await().atMost(WatchTest.PATIENCE).until(informer::hasSynced);
            long listed = informer.revision();

            AtomicBoolean stop = new AtomicBoolean();
            Thread load = new Thread(() -> {
                for (int i = 0; !stop.get(); i++) {
                    try {
                        String key = "k/" + (i % 40);
                        if (i % 7 == 6) {
                            writer.kv().delete(key);
                        } else {
                            writer.kv().put(key, "v" + i);
                        }
                    } catch (VigilException e) {
                        // the server is down; a write of unknown outcome shows up or not, and the informer must agree
                        pause();
                    }
                }
            }, "writer");
            load.start();
            try {
                for (int crash = 0; crash < 2; crash++) {
                    int before = told.size();
                    await().atMost(WatchTest.PATIENCE).until(() -> told.size() >= before + 50);
                    server.kill();
                    server.restart();
                }
                int before = told.size();
                await().atMost(WatchTest.PATIENCE).until(() -> told.size() >= before + 50);
            } finally {
                stop.set(true);
                load.join();
            }
            long last = writer.kv().put("k/end", "end").revision();
            assertTrue(informer.awaitRevision(last, WatchTest.PATIENCE));
            String lastCall = "ADD k/end=end@" + last;
            await().atMost(WatchTest.PATIENCE).until(() -> told.calls().contains(lastCall));

            // the truth: a fresh watch over the same history, and the store itself
            Recorder truth = new Recorder();
            try (Watch replay = writer.watches().watch(Op.getPrefix("k/"), listed + 1, truth)) {
                await().atMost(WatchTest.PATIENCE).until(() -> truth.reached(last));
            }
            List<String> expected = new ArrayList<>(List.of("PUT k/start=0@" + listed));
            for (Recorder.Told t : truth.told()) {
                for (String change : t.changes()) {
                    expected.add(change.startsWith("PUT") ? change + "@" + t.revision() : change);
                }
            }
            List<String> seen = told.calls().stream().map(c -> c.replaceFirst("^(ADD|UPDATE) ", "PUT ")).toList();
            assertEquals(expected, seen, "every change once, in order, across two crashes");
            assertEquals(store(writer, "k/"), cached(informer));
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void relistsWhenItsHistoryWasCompactedAndTellsTheDifference(String name) throws Exception {
        try (LocalServer server = Servers.start(name, tmp); VigilClient direct = Servers.client(server);
             FaultProxy proxy = FaultProxy.start(server.clientPort());
             VigilClient through = VigilClient.builder().endpoints("127.0.0.1:" + proxy.port()).build();
             Informer<Item> informer = new Informer<>(through, "c/", Item::of, handlerThreads)) {
            direct.kv().put("c/stays", "1");
            direct.kv().put("c/changes", "1");
            direct.kv().put("c/goes", "1");
            Told told = new Told();
            informer.addHandler(told).start();
            await().atMost(WatchTest.PATIENCE).until(() -> told.size() == 3);

            // the informer is cut off while the store changes and its history is compacted
            proxy.cut();
            direct.kv().put("c/changes", "2");
            direct.kv().delete("c/goes");
            long added = direct.kv().put("c/new", "1").revision();
            long changed = direct.kv().put("c/changes", "3").revision();
            direct.kv().compact(changed);
            proxy.unblock();

            assertTrue(informer.awaitRevision(changed, WatchTest.PATIENCE));
            await().atMost(WatchTest.PATIENCE).until(() -> told.size() == 6);
            assertEquals(List.of("DELETE c/goes", "UPDATE c/changes=3@" + changed, "ADD c/new=1@" + added),
                    told.calls().subList(3, 6), "the difference, told once: deletes first, then in key order");
            assertEquals(store(direct, "c/"), cached(informer));

            // and it watches again from the new list
            long later = direct.kv().put("c/later", "1").revision();
            assertTrue(informer.awaitRevision(later, WatchTest.PATIENCE));
            assertEquals(store(direct, "c/"), cached(informer));
        }
    }

    static List<String> keys(List<Item> items) {
        return items.stream().map(Item::key).toList();
    }

    static Map<String, String> store(VigilClient client, String prefix) {
        Map<String, String> store = new TreeMap<>();
        for (KeyValue kv : client.kv().getPrefix(prefix).kvs()) {
            store.put(kv.key(), kv.value());
        }
        return store;
    }

    static Map<String, String> cached(Informer<Item> informer) {
        Map<String, String> cached = new TreeMap<>();
        for (Item i : informer.list()) {
            cached.put(i.key(), i.value());
        }
        return cached;
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
