package io.vigil.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client of Vigil (or of any etcd v3 server): {@link #kv()}, {@link #watches()},
 * {@link #leases()}, over one HTTP/2 connection per member.
 *
 * <pre>{@code
 * try (VigilClient client = VigilClient.builder().endpoints("127.0.0.1:2379", "127.0.0.1:22379").build()) {
 *     client.kv().put("greeting", "hello");
 * }
 * }</pre>
 *
 * Thread-safe; one client is meant to be shared. Listeners (watches, keep-alives) run on the
 * executor given to the builder, by default the client's own daemon threads, never on network
 * threads.
 */
public final class VigilClient implements AutoCloseable {
    private final Endpoints endpoints;
    private final ScheduledExecutorService timer;
    /** Asks the members which one leads (blocking calls kept off the timer). */
    private final ExecutorService leaderLookup;
    private final ExecutorService ownListenerThreads;
    private final Kv kv;
    private final Watches watches;
    private final Leases leases;

    private VigilClient(Builder b) {
        endpoints = new Endpoints(b.endpoints);
        timer = Executors.newSingleThreadScheduledExecutor(daemons("vigil-client-timer"));
        leaderLookup = Executors.newSingleThreadExecutor(daemons("vigil-client-leader"));
        java.util.concurrent.Executor listeners = b.listenerExecutor;
        if (listeners == null) {
            ownListenerThreads = Executors.newCachedThreadPool(daemons("vigil-client-listener"));
            listeners = ownListenerThreads;
        } else {
            ownListenerThreads = null;
        }
        Calls calls = new Calls(endpoints, b.callTimeout, leaderLookup);
        kv = new Kv(calls);
        watches = new Watches(endpoints, listeners, timer);
        leases = new Leases(calls, endpoints, listeners, timer);
        if (endpoints.size() > 1) {
            calls.findLeader();
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Kv kv() {
        return kv;
    }

    public Watches watches() {
        return watches;
    }

    public Leases leases() {
        return leases;
    }

    /** Closes the connections; running watches and keep-alives end without further callbacks. */
    @Override
    public void close() {
        timer.shutdownNow();
        leaderLookup.shutdownNow();
        endpoints.close();
        if (ownListenerThreads != null) {
            ownListenerThreads.shutdown();
        }
    }

    private static ThreadFactory daemons(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public static final class Builder {
        private final List<String> endpoints = new ArrayList<>();
        private Duration callTimeout = Duration.ofSeconds(10);
        private java.util.concurrent.Executor listenerExecutor;

        private Builder() {
        }

        /** The members, as {@code host:port} or {@code http://host:port}. */
        public Builder endpoints(String... endpoints) {
            this.endpoints.addAll(List.of(endpoints));
            return this;
        }

        public Builder endpoints(List<String> endpoints) {
            this.endpoints.addAll(endpoints);
            return this;
        }

        /** How long a unary call may take, retries included (default 10 s). */
        public Builder callTimeout(Duration timeout) {
            this.callTimeout = timeout;
            return this;
        }

        /** Where watch and keep-alive listeners run (default: the client's own threads). */
        public Builder listenerExecutor(java.util.concurrent.Executor executor) {
            this.listenerExecutor = executor;
            return this;
        }

        public VigilClient build() {
            return new VigilClient(this);
        }
    }
}
