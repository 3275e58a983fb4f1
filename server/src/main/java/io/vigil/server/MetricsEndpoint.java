package io.vigil.server;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Prometheus text exposition at {@code /metrics} on each --listen-metrics-urls address. */
final class MetricsEndpoint implements AutoCloseable {
    private final List<HttpServer> servers = new ArrayList<>();

    MetricsEndpoint(List<URI> urls, PrometheusMeterRegistry registry) throws IOException {
        try {
            for (URI url : urls) {
                HttpServer http = HttpServer.create(Urls.address(url), 16);
                http.createContext("/metrics", exchange -> {
                    byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                    exchange.sendResponseHeaders(200, body.length);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(body);
                    }
                });
                http.start();
                servers.add(http);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    List<InetSocketAddress> addresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (HttpServer s : servers) {
            out.add(s.getAddress());
        }
        return out;
    }

    @Override
    public void close() {
        for (HttpServer s : servers) {
            s.stop(0);
        }
    }
}
