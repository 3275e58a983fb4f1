package io.vigil.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/** One Prometheus scrape of a member's /metrics over HTTP/1.1, as Prometheus and curl fetch it. */
record MetricsScrape(int status, String body) {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** GET http://{@code hostPort}{@code path}. */
    static MetricsScrape get(String hostPort, String path) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + hostPort + path))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return new MetricsScrape(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static MetricsScrape of(String hostPort) {
        return get(hostPort, "/metrics");
    }

    /** Every sample: series (name with its labels, as printed) → value. */
    Map<String, Double> samples() {
        Map<String, Double> out = new TreeMap<>();
        for (String line : body.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return out;
    }

    /** Whether any sample is of metric {@code name} (exactly: not a longer name that starts with it). */
    boolean has(String name) {
        return samples().keySet().stream().anyMatch(s -> s.equals(name) || s.startsWith(name + "{"));
    }

    /** The value of the one unlabelled sample {@code name}. */
    double value(String name) {
        Double v = samples().get(name);
        if (v == null) {
            throw new AssertionError("no sample " + name + " in\n" + body);
        }
        return v;
    }
}
