package io.vigil.test;

import io.vigil.server.ServerConfig;
import io.vigil.server.VigilServer;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One Vigil member in this JVM. A member that installed a snapshot from its leader asks to be
 * started again on the same configuration, as {@code bin/vigil} does it; so does this, on its
 * own thread, until closed.
 */
final class InProcessMember implements AutoCloseable {
    private final ServerConfig config;
    private final CompletableFuture<InetSocketAddress> clientAddress = new CompletableFuture<>();
    private final Thread supervisor;
    private volatile VigilServer server;
    private volatile boolean closed;

    InProcessMember(ServerConfig config) {
        this.config = config;
        supervisor = new Thread(this::run, "vigil-test-" + config.name());
        supervisor.setDaemon(true);
        supervisor.start();
    }

    private void run() {
        try {
            while (!closed) {
                VigilServer s = VigilServer.start(config, fatal -> { });
                server = s;
                clientAddress.complete(s.clientAddresses().get(0));
                s.awaitTermination();
                if (!s.restartRequested()) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            clientAddress.completeExceptionally(e);
        }
    }

    /** {@code 127.0.0.1:PORT}, once the member listens. */
    String endpoint() {
        try {
            InetSocketAddress a = clientAddress.get(60, TimeUnit.SECONDS);
            return a.getHostString() + ":" + a.getPort();
        } catch (Exception e) {
            throw new IllegalStateException("member " + config.name() + " did not start", e);
        }
    }

    @Override
    public void close() {
        closed = true;
        VigilServer s = server;
        if (s != null) {
            s.close();
        }
        try {
            supervisor.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
