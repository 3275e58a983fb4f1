package io.vigil.client;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.client.recipes.ServiceRegistry;
import io.vigil.testkit.LocalServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The service registry recipe against Vigil and a real etcd: instances registered under kept-alive
 * leases are discovered as a live set; a closed registration leaves it at once; a lost lease
 * (revoked behind the registration's back) is replaced by a new one and the instance comes back;
 * registrations and discovery go on across a crash and restart of the server.
 */
class ServiceRegistryTest {
    static final List<String> SERVERS = Servers.NAMES;

    @TempDir
    Path tmp;

    private final ExecutorService listenerThreads = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopListeners() {
        listenerThreads.shutdownNow();
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void registeredInstancesAreDiscoveredAsALiveSet(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient a = Servers.client(server);
             VigilClient b = Servers.client(server);
             ServiceRegistry registryA = new ServiceRegistry(a, "services/", listenerThreads);
             ServiceRegistry registryB = new ServiceRegistry(b, "services/", listenerThreads)) {
            ServiceRegistry.Registration one = registryA.register("api", "one", "10.0.0.1:80", 5);
            try (ServiceRegistry.Instances api = registryB.discover("api");
                 ServiceRegistry.Registration two = registryB.register("api", "two", "10.0.0.2:80", 5);
                 ServiceRegistry.Registration other = registryB.register("db", "one", "10.0.0.9:5432", 5)) {
                List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
                api.onChange(seen::add);
                Map<String, String> both = Map.of("one", "10.0.0.1:80", "two", "10.0.0.2:80");
                await().atMost(WatchTest.PATIENCE).until(() -> api.current().equals(both));

                one.close();
                await().atMost(WatchTest.PATIENCE).until(() -> api.current().equals(Map.of("two", "10.0.0.2:80")));
                // listeners hear the set as it is after each change
                await().atMost(WatchTest.PATIENCE).until(() -> seen.contains(Map.of("two", "10.0.0.2:80")));
            }
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void aLostLeaseIsReplacedAndTheInstanceComesBack(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server);
             VigilClient other = Servers.client(server);
             ServiceRegistry registry = new ServiceRegistry(client, "services/", listenerThreads);
             ServiceRegistry.Registration me = registry.register("api", "me", "10.0.0.7:80", 5);
             ServiceRegistry.Instances api = registry.discover("api")) {
            List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
            api.onChange(seen::add);
            await().atMost(WatchTest.PATIENCE).until(() -> api.current().equals(Map.of("me", "10.0.0.7:80")));
            long first = me.leaseId();

            other.leases().revoke(first);
            await().atMost(WatchTest.PATIENCE).until(() -> me.leaseId() != first);
            KeyValue registered = client.kv().get(me.key());
            assertEquals(me.leaseId(), registered.lease());
            assertNotEquals(first, registered.lease());
            assertTrue(client.leases().timeToLive(me.leaseId()) > 0);
            // the instance went (the revoke deleted its key) and came back
            await().atMost(WatchTest.PATIENCE).until(() -> seen.contains(Map.of()));
            await().atMost(WatchTest.PATIENCE).until(() -> api.current().equals(Map.of("me", "10.0.0.7:80")));
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void registrationAndDiscoveryGoOnAcrossAServerCrash(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server);
             ServiceRegistry registry = new ServiceRegistry(client, "services/", listenerThreads);
             // a TTL the restart fits in, as in LeaseTest
             ServiceRegistry.Registration one = registry.register("api", "one", "10.0.0.1:80", 10);
             ServiceRegistry.Instances api = registry.discover("api")) {
            await().atMost(WatchTest.PATIENCE).until(() -> api.current().equals(Map.of("one", "10.0.0.1:80")));
            server.kill();
            server.restart();
            // the client's connection comes back after its reconnect backoff; a register before then fails, and says so
            await().atMost(WatchTest.PATIENCE).ignoreExceptions().until(() -> client.kv().get("services/none") == null);
            try (ServiceRegistry.Registration two = registry.register("api", "two", "10.0.0.2:80", 10)) {
                Map<String, String> both = Map.of("one", "10.0.0.1:80", "two", "10.0.0.2:80");
                await().atMost(WatchTest.PATIENCE).until(() -> api.current().equals(both));
            }
            await().atMost(WatchTest.PATIENCE).until(() -> api.current().equals(Map.of("one", "10.0.0.1:80")));
            assertEquals(one.leaseId(), client.kv().get(one.key()).lease());
        }
    }
}
