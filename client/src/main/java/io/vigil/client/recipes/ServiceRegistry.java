package io.vigil.client.recipes;

import io.vigil.client.KeepAlive;
import io.vigil.client.LeaseListener;
import io.vigil.client.Op;
import io.vigil.client.VigilClient;
import io.vigil.client.VigilException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Service discovery on leases: an instance registers itself as a key under its service
 * ({@code root + service + "/" + instanceId}, its address as the value) bound to a lease it keeps
 * alive; when the process dies the lease expires and the key goes. Clients discover a service as
 * a live set of its instances, kept current by a watch of the service's prefix.
 *
 * <pre>{@code
 * ServiceRegistry registry = new ServiceRegistry(client, "services/", executor);
 * Registration me = registry.register("api", "pod-7", "10.0.0.7:8080", 10);
 * Instances api = registry.discover("api").onChange(now -> balancer.update(now));
 * }</pre>
 */
public final class ServiceRegistry implements AutoCloseable {

    private final VigilClient client;
    private final String root;
    private final Executor executor;
    /** Registers again after a lease's loss, retrying until it works or the registration closes. */
    private final ExecutorService reRegistrations = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vigil-registry");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param root the prefix every service lives under (e.g. {@code "services/"})
     * @param executor where change listeners run (one call at a time per discovery)
     */
    public ServiceRegistry(VigilClient client, String root, Executor executor) {
        this.client = client;
        this.root = root;
        this.executor = executor;
    }

    /**
     * Registers an instance under a new lease of {@code ttlSeconds} and keeps it alive; should the
     * lease be lost (expired while this process could not reach the store, or revoked), it
     * registers again under a new lease. Throws if the first registration fails.
     */
    public Registration register(String service, String instanceId, String address, long ttlSeconds) {
        Registration r = new Registration(root + service + "/" + instanceId, address, ttlSeconds);
        r.registerOnce();
        return r;
    }

    /** The live set of a service's instances; close it to stop watching. */
    public Instances discover(String service) {
        String prefix = root + service + "/";
        Instances instances = new Instances(new Informer<>(client, prefix,
                kv -> new Instance(kv.key().substring(prefix.length()), kv.value()), executor));
        instances.informer.start();
        return instances;
    }

    /** Stops re-registering; registrations still open keep their current lease until closed. */
    @Override
    public void close() {
        reRegistrations.shutdownNow();
    }

    /** One instance of a service. */
    public record Instance(String id, String address) {
    }

    /** One registered instance: its key lives as long as this is open and the process runs. */
    public final class Registration implements AutoCloseable {
        private final String key;
        private final String address;
        private final long ttlSeconds;
        // guarded by this
        private long leaseId;
        private KeepAlive keepAlive;
        private boolean closed;

        private Registration(String key, String address, long ttlSeconds) {
            this.key = key;
            this.address = address;
            this.ttlSeconds = ttlSeconds;
        }

        /** The key the instance is registered under. */
        public String key() {
            return key;
        }

        /** The lease the key is bound to now (a new one after a loss). */
        public synchronized long leaseId() {
            return leaseId;
        }

        /** A lease granted, the key put under it, the lease kept alive; throws on failure. */
        private void registerOnce() {
            long lease = client.leases().grant(ttlSeconds);
            client.kv().put(Op.put(key, address).lease(lease));
            synchronized (this) {
                // the current lease before its keep-alive starts, so that a loss told at once is not ignored
                leaseId = lease;
            }
            KeepAlive k = client.leases().keepAlive(lease, new LeaseListener() {
                @Override
                public void onLost(long id, String reason) {
                    lost(id);
                }
            });
            synchronized (this) {
                if (!closed) {
                    keepAlive = k;
                    return;
                }
            }
            k.close();
            revokeQuietly(lease);
        }

        private void lost(long lease) {
            synchronized (this) {
                if (closed || lease != leaseId) {
                    return;
                }
            }
            try {
                reRegistrations.execute(this::reRegister);
            } catch (RejectedExecutionException registryClosed) {
                // the registry no longer re-registers
            }
        }

        /** Registers again until it succeeds; a grant of unknown outcome may leave a lease behind, expiring by its TTL. */
        private void reRegister() {
            Retrying.untilDone(this::isClosed, this::registerOnce);
        }

        private synchronized boolean isClosed() {
            return closed;
        }

        /** Deregisters: stops the keep-alive and revokes the lease, which deletes the key. */
        @Override
        public void close() {
            KeepAlive k;
            long lease;
            synchronized (this) {
                closed = true;
                k = keepAlive;
                lease = leaseId;
            }
            if (k != null) {
                k.close();
            }
            revokeQuietly(lease);
        }

        private void revokeQuietly(long lease) {
            try {
                client.leases().revoke(lease);
            } catch (VigilException e) {
                // unreachable or gone already: the lease expires by its TTL
            }
        }
    }

    /**
     * A service's instances as they are now: {@link #current()} and listeners told each change.
     * It reflects the store once the first list is in ({@link #hasSynced()}).
     */
    public static final class Instances implements AutoCloseable {
        private final Informer<Instance> informer;
        private final List<Consumer<Map<String, String>>> listeners = new CopyOnWriteArrayList<>();
        // guarded by this; changed by the informer's handlers, in order
        private final TreeMap<String, String> now = new TreeMap<>();

        private Instances(Informer<Instance> informer) {
            this.informer = informer;
            informer.addHandler(new Informer.Handler<>() {
                @Override
                public void onAdd(Instance i) {
                    changed(i.id(), i.address());
                }

                @Override
                public void onUpdate(Instance old, Instance i) {
                    changed(i.id(), i.address());
                }

                @Override
                public void onDelete(Instance last) {
                    changed(last.id(), null);
                }
            });
        }

        /** Instance id to address, in id order: a snapshot. */
        public synchronized Map<String, String> current() {
            return new TreeMap<>(now);
        }

        public boolean hasSynced() {
            return informer.hasSynced();
        }

        /** Adds a listener told the whole set after each change, on the registry's executor. */
        public Instances onChange(Consumer<Map<String, String>> listener) {
            listeners.add(listener);
            return this;
        }

        private void changed(String id, String address) {
            Map<String, String> snapshot;
            synchronized (this) {
                if (address == null) {
                    now.remove(id);
                } else {
                    now.put(id, address);
                }
                snapshot = new TreeMap<>(now);
            }
            for (Consumer<Map<String, String>> l : listeners) {
                l.accept(snapshot);
            }
        }

        @Override
        public void close() {
            informer.close();
        }
    }
}
