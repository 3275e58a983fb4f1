package io.vigil.server;

import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts the CA certificates of one PEM file (etcd's --trusted-ca-file), read again when the file
 * changed on disk, checked at each handshake as {@link ReloadingKeyManager} checks its files; or,
 * without a file, Java's default trusted CAs. Checks are Java's PKIX ones (chain, validity, key
 * usage), plus the host name when the engine asks for it (clients dialling a URL).
 */
final class ReloadingTrustManager extends X509ExtendedTrustManager {
    private record Trust(X509ExtendedTrustManager delegate, FileStamp stamp) {
    }

    private final Path caFile;
    private volatile Trust current;
    private volatile FileStamp failed;

    /** @param caFile the CA certificates, or null for Java's default trusted CAs */
    ReloadingTrustManager(Path caFile) {
        this.caFile = caFile;
        current = caFile == null ? new Trust(delegate(null), null) : read(FileStamp.of(caFile));
    }

    private Trust read(FileStamp stamp) {
        List<X509Certificate> cas = PemFiles.certificates(caFile);
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                store.setCertificateEntry("ca-" + i, cas.get(i));
            }
            return new Trust(delegate(store), stamp);
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalArgumentException("cannot use the CA certificates of " + caFile + ": " + e, e);
        }
    }

    private static X509ExtendedTrustManager delegate(KeyStore store) {
        try {
            TrustManagerFactory f = TrustManagerFactory.getInstance("PKIX");
            f.init(store);
            for (TrustManager tm : f.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no PKIX trust manager: " + e, e);
        }
        throw new IllegalStateException("no PKIX trust manager");
    }

    private X509ExtendedTrustManager trust() {
        Trust t = current;
        if (caFile == null) {
            return t.delegate();
        }
        FileStamp now = FileStamp.of(caFile);
        if (now.equals(t.stamp()) || now.equals(failed)) {
            return t.delegate();
        }
        synchronized (this) {
            if (current != t) {
                return current.delegate();
            }
            try {
                current = read(now);
                VigilServer.LOG.log(System.Logger.Level.INFO, "reloaded the trusted CA certificates " + caFile);
            } catch (IllegalArgumentException e) {
                failed = now;
                VigilServer.LOG.log(System.Logger.Level.WARNING, "keeping the trusted CA certificates in use: " + e.getMessage());
            }
            return current.delegate();
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        trust().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        trust().checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        trust().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        trust().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        trust().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        trust().checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return trust().getAcceptedIssuers();
    }
}
