package io.vigil.server;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * etcd's TLS flags, checked: the client port's certificate ({@code --cert-file},
 * {@code --key-file}, {@code --trusted-ca-file}, {@code --client-cert-auth}), the peer port's
 * ({@code --peer-*}), and what both use: {@code --cipher-suites} (Go's names, which are the IANA
 * names Java uses) and {@code --tls-min-version} (etcd 3.5). Free of any TLS library, so a
 * configuration can be checked anywhere; {@link TlsContexts} builds the TLS contexts from it.
 */
record TlsSettings(Side client, Side peer, List<String> cipherSuites, String minVersion) {
    /** TLS 1.3's suites, which Go (so etcd) always enables whatever --cipher-suites says. */
    static final List<String> TLS13_SUITES = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");
    static final TlsSettings NONE = new TlsSettings(Side.NONE, Side.NONE, List.of(), "TLS1.2");

    /**
     * One port's files. A trusted CA file alone already makes the port require a client
     * certificate signed by it, as etcd does ({@link #requiresClientCert}).
     */
    record Side(Path certFile, Path keyFile, Path trustedCaFile, boolean clientCertAuth) {
        static final Side NONE = new Side(null, null, null, false);

        boolean hasKeyPair() {
            return certFile != null && keyFile != null;
        }

        boolean requiresClientCert() {
            return clientCertAuth || trustedCaFile != null;
        }

        Side withCertFile(Path p) {
            return new Side(p, keyFile, trustedCaFile, clientCertAuth);
        }

        Side withKeyFile(Path p) {
            return new Side(certFile, p, trustedCaFile, clientCertAuth);
        }

        Side withTrustedCaFile(Path p) {
            return new Side(certFile, keyFile, p, clientCertAuth);
        }

        Side withClientCertAuth(boolean on) {
            return new Side(certFile, keyFile, trustedCaFile, on);
        }
    }

    TlsSettings {
        cipherSuites = List.copyOf(cipherSuites);
    }

    TlsSettings withClient(Side s) {
        return new TlsSettings(s, peer, cipherSuites, minVersion);
    }

    TlsSettings withPeer(Side s) {
        return new TlsSettings(client, s, cipherSuites, minVersion);
    }

    /**
     * Comma-separated Go names; Go's short names of the ChaCha20 suites (without {@code _SHA256})
     * become the IANA names. Whether Java supports each is checked when the contexts are built.
     */
    TlsSettings withCipherSuites(String list) {
        Set<String> out = new LinkedHashSet<>();
        for (String s : list.split(",", -1)) {
            String name = s.trim();
            if (name.isEmpty()) {
                continue;
            }
            if (!name.startsWith("TLS_")) {
                throw new IllegalArgumentException("unexpected TLS cipher suite \"" + name + "\"");
            }
            if (name.endsWith("_CHACHA20_POLY1305")) {
                name = name + "_SHA256";
            }
            out.add(name);
        }
        return new TlsSettings(client, peer, new ArrayList<>(out), minVersion);
    }

    /** etcd 3.5's values; TLS 1.0 and 1.1 are refused (Java disables them). */
    TlsSettings withMinVersion(String v) {
        String t = v.trim();
        if (t.equals("TLS1.0") || t.equals("TLS1.1")) {
            throw new IllegalArgumentException(t + " is not supported (Java disables TLS 1.0 and 1.1): use TLS1.2 or TLS1.3");
        }
        if (!t.equals("TLS1.2") && !t.equals("TLS1.3")) {
            throw new IllegalArgumentException("unexpected TLS version \"" + t + "\" (TLS1.2 or TLS1.3)");
        }
        return new TlsSettings(client, peer, cipherSuites, t);
    }

    /** Java's protocol names for the versions allowed. */
    List<String> protocols() {
        return minVersion.equals("TLS1.3") ? List.of("TLSv1.3") : List.of("TLSv1.3", "TLSv1.2");
    }

    /** The suites to enable, or null for Java's defaults: those asked for, plus TLS 1.3's as in Go. */
    List<String> enabledSuites() {
        if (cipherSuites.isEmpty()) {
            return null;
        }
        List<String> out = new ArrayList<>(TLS13_SUITES);
        out.addAll(cipherSuites);
        return out;
    }

    /**
     * Checks the flags against the URLs, with etcd's messages: an https URL needs its port's key
     * pair, a file given alone needs its partner, suites cannot be chosen for TLS 1.3 only.
     */
    void check(List<URI> listenClientUrls, List<URI> listenClientHttpUrls, List<URI> listenPeerUrls) {
        oneScheme(listenClientUrls, "--listen-client-urls");
        oneScheme(listenClientHttpUrls, "--listen-client-http-urls");
        oneScheme(listenPeerUrls, "--listen-peer-urls");
        pairComplete(client, "--cert-file", "--key-file");
        pairComplete(peer, "--peer-cert-file", "--peer-key-file");
        for (URI u : listenClientUrls) {
            if (Urls.secure(u) && !client.hasKeyPair()) {
                throw new IllegalArgumentException("TLS key/cert (--cert-file, --key-file) must be provided for client url "
                        + u + " with HTTPS scheme");
            }
        }
        for (URI u : listenClientHttpUrls) {
            if (Urls.secure(u) && !client.hasKeyPair()) {
                throw new IllegalArgumentException("TLS key/cert (--cert-file, --key-file) must be provided for client http url "
                        + u + " with HTTPS scheme");
            }
        }
        for (URI u : listenPeerUrls) {
            if (Urls.secure(u) && !peer.hasKeyPair()) {
                throw new IllegalArgumentException("TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url "
                        + u + " with HTTPS scheme");
            }
        }
        if (minVersion.equals("TLS1.3") && !cipherSuites.isEmpty()) {
            throw new IllegalArgumentException("cipher suites cannot be configured when only TLS1.3 is enabled");
        }
    }

    /** One port serves one way: all its URLs http://, or all https://. */
    private static void oneScheme(List<URI> urls, String flag) {
        if (urls.stream().map(Urls::secure).distinct().count() > 1) {
            throw new IllegalArgumentException(flag + " mixes http:// and https:// URLs; Vigil serves them all one way");
        }
    }

    private static void pairComplete(Side s, String cert, String key) {
        if ((s.certFile() == null) != (s.keyFile() == null)) {
            throw new IllegalArgumentException(cert + " and " + key + " must be given together");
        }
    }
}
