package io.vigil.server;

import java.net.Socket;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key pair from a certificate file and a key file, read again when either changed on disk: each
 * handshake first looks at the files' stamps ({@link FileStamp}), so new connections present the
 * new certificate while open ones keep theirs. A pair that cannot be read, or whose key does not
 * match its certificate (files caught half-replaced), is logged and the old pair kept until the
 * files change again. The first read must succeed.
 *
 * <p>Each pair read has its own alias; a handshake asks for the alias, then for the chain and
 * key under it, so a reload in between still gives it one consistent pair (the previous pair is
 * kept for that).
 */
final class ReloadingKeyManager extends X509ExtendedKeyManager {
    private record Pair(String alias, X509Certificate[] chain, PrivateKey key, FileStamp stamp) {
    }

    private final Path certFile;
    private final Path keyFile;
    private volatile Pair current;
    private volatile Pair previous;
    /** The stamp of files that could not be read, so that they are not tried (and logged) again. */
    private volatile FileStamp failed;
    private int generation;

    ReloadingKeyManager(Path certFile, Path keyFile) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        current = read(FileStamp.of(certFile, keyFile));
    }

    /** The certificate presented now (after a look at the files). */
    X509Certificate certificate() {
        return refreshed().chain()[0];
    }

    private synchronized Pair read(FileStamp stamp) {
        List<X509Certificate> chain = PemFiles.certificates(certFile);
        PrivateKey key = PemFiles.privateKey(keyFile);
        if (!PemFiles.matches(key, chain.get(0))) {
            throw new IllegalArgumentException("the private key " + keyFile + " does not match the certificate " + certFile);
        }
        return new Pair("vigil-" + (++generation), chain.toArray(X509Certificate[]::new), key, stamp);
    }

    private Pair refreshed() {
        Pair p = current;
        FileStamp now = FileStamp.of(certFile, keyFile);
        if (now.equals(p.stamp()) || now.equals(failed)) {
            return p;
        }
        synchronized (this) {
            if (current != p) {
                return current;
            }
            try {
                Pair fresh = read(now);
                previous = p;
                current = fresh;
                VigilServer.LOG.log(System.Logger.Level.INFO, "reloaded the certificate " + certFile + " (serial "
                        + fresh.chain()[0].getSerialNumber().toString(16) + ")");
                return fresh;
            } catch (IllegalArgumentException e) {
                failed = now;
                VigilServer.LOG.log(System.Logger.Level.WARNING, "keeping the certificate in use: " + e.getMessage());
                return p;
            }
        }
    }

    private Pair named(String alias) {
        Pair c = current;
        if (c.alias().equals(alias)) {
            return c;
        }
        Pair p = previous;
        return p != null && p.alias().equals(alias) ? p : null;
    }

    /** Whether the pair's key serves {@code keyType} (JSSE asks "RSA", "EC", "EC_RSA", "RSASSA-PSS", ...). */
    private static boolean serves(Pair p, String keyType) {
        String algorithm = p.key().getAlgorithm();
        return keyType.equals(algorithm) || keyType.startsWith(algorithm + "_")
                || (algorithm.equals("EdDSA") && (keyType.equals("Ed25519") || keyType.equals("Ed448")));
    }

    private String chooseServer(String keyType) {
        Pair p = refreshed();
        return keyType != null && serves(p, keyType) ? p.alias() : null;
    }

    private String chooseClient(String[] keyTypes) {
        Pair p = refreshed();
        if (keyTypes != null) {
            for (String t : keyTypes) {
                if (serves(p, t)) {
                    return p.alias();
                }
            }
        }
        return null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return chooseServer(keyType);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return chooseServer(keyType);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return chooseClient(keyTypes);
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return chooseClient(keyTypes);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        String a = chooseServer(keyType);
        return a == null ? null : new String[] {a};
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        String a = chooseClient(new String[] {keyType});
        return a == null ? null : new String[] {a};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        Pair p = named(alias);
        return p == null ? null : p.chain().clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        Pair p = named(alias);
        return p == null ? null : p.key();
    }
}
