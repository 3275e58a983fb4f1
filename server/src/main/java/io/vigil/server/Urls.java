package io.vigil.server;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;

/** etcd-style client and peer URLs: a comma-separated list of http://HOST:PORT or https://HOST:PORT. */
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
        if ("unix".equals(u.getScheme()) || "unixs".equals(u.getScheme())) {
            throw new IllegalArgumentException("\"" + u + "\": unix sockets are not supported");
        }
        if (!("http".equals(u.getScheme()) || secure(u)) || u.getHost() == null || u.getPort() < 0
                || (u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/"))) {
            throw new IllegalArgumentException("\"" + u + "\" must look like http://HOST:PORT or https://HOST:PORT");
        }
    }

    /** As {@link #check}, for URLs served without TLS only (--listen-metrics-urls). */
    static void checkPlain(URI u) {
        check(u);
        if (secure(u)) {
            throw new IllegalArgumentException("\"" + u + "\": only http:// is supported here");
        }
    }

    /** Whether connections to {@code u} use TLS. */
    static boolean secure(URI u) {
        return "https".equals(u.getScheme());
    }

    static InetSocketAddress address(URI u) {
        return new InetSocketAddress(u.getHost(), u.getPort());
    }
}
