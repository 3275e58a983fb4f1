package io.vigil.server;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;

/** etcd-style client and peer URLs: a comma-separated list of http://HOST:PORT. */
final class Urls {
    private Urls() {
    }

    static List<URI> parse(String commaSeparated) {
        List<URI> urls = new ArrayList<>();
        for (String s : commaSeparated.split(",", -1)) {
            URI u;
            try {
                u = new URI(s.trim());
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("\"" + s + "\" is not a URL");
            }
            check(u);
            urls.add(u);
        }
        return urls;
    }

    static void check(URI u) {
        if ("https".equals(u.getScheme()) || "unix".equals(u.getScheme()) || "unixs".equals(u.getScheme())) {
            throw new IllegalArgumentException("\"" + u + "\": only http:// URLs are supported (no TLS or unix sockets yet)");
        }
        if (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0
                || (u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/"))) {
            throw new IllegalArgumentException("\"" + u + "\" must look like http://HOST:PORT");
        }
    }

    static InetSocketAddress address(URI u) {
        return new InetSocketAddress(u.getHost(), u.getPort());
    }
}
