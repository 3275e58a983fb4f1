package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM files as openssl writes them, and key pairs read again when their files change. */
class TlsFilesTest {
    @TempDir
    Path dir;

    @Test
    void readsPkcs8RsaAndEcKeysThatMatchTheirCertificates() throws Exception {
        TestCerts certs = new TestCerts(dir);
        TestCerts.Ca ca = certs.ca("ca");
        TestCerts.Leaf rsa = certs.leaf(ca, "rsa", true);
        TestCerts.Leaf ec = certs.leaf(ca, "ec", false);
        assertTrue(Files.readString(rsa.keyFile()).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertTrue(Files.readString(ec.keyFile()).startsWith("-----BEGIN PRIVATE KEY-----"));
        for (TestCerts.Leaf l : new TestCerts.Leaf[] {rsa, ec}) {
            PrivateKey key = PemFiles.privateKey(l.keyFile());
            X509Certificate cert = PemFiles.certificates(l.certFile()).get(0);
            assertEquals(l.serial(), cert.getSerialNumber());
            assertTrue(PemFiles.matches(key, cert), l.keyFile().toString());
        }
        assertTrue(!PemFiles.matches(PemFiles.privateKey(rsa.keyFile()), PemFiles.certificates(ec.certFile()).get(0)));
    }

    @Test
    void readsOpensslsTraditionalRsaAndEcKeys() throws Exception {
        Path rsa = dir.resolve("rsa.key");
        Path ec = dir.resolve("ec.key");
        openssl("genrsa", "-traditional", "-out", rsa.toString(), "2048");
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", ec.toString());
        assertTrue(Files.readString(rsa).startsWith("-----BEGIN RSA PRIVATE KEY-----"));
        assertTrue(Files.readString(ec).contains("-----BEGIN EC PRIVATE KEY-----")); // after an EC PARAMETERS block
        for (Path key : new Path[] {rsa, ec}) {
            Path cert = dir.resolve(key.getFileName() + ".crt");
            openssl("req", "-x509", "-key", key.toString(), "-days", "1", "-subj", "/CN=t", "-out", cert.toString());
            assertTrue(PemFiles.matches(PemFiles.privateKey(key), PemFiles.certificates(cert).get(0)), key.toString());
        }
    }

    private static void openssl(String... args) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("openssl"));
        cmd.addAll(java.util.List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            org.junit.jupiter.api.Assumptions.abort("openssl is needed: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
    }

    @Test
    void aKeyPairIsReadAgainWhenItsFilesChangeAndKeptWhenTheyAreBroken() throws Exception {
        TestCerts certs = new TestCerts(dir);
        TestCerts.Ca ca = certs.ca("ca");
        TestCerts.Leaf live = certs.leaf(ca, "live", true);
        ReloadingKeyManager keys = new ReloadingKeyManager(live.certFile(), live.keyFile());
        assertEquals(live.serial(), keys.certificate().getSerialNumber());
        String alias = keys.chooseEngineServerAlias("RSA", null, null);

        TestCerts.Leaf renewed = certs.leaf(ca, "renewed", false);
        TestCerts.replace(live, renewed);
        assertEquals(renewed.serial(), keys.certificate().getSerialNumber());
        String ecAlias = keys.chooseEngineServerAlias("EC", null, null);
        assertTrue(ecAlias != null && !ecAlias.equals(alias));
        assertEquals(renewed.serial(), keys.getCertificateChain(ecAlias)[0].getSerialNumber());
        // a handshake that chose the former alias still gets one consistent pair
        assertEquals(live.serial(), keys.getCertificateChain(alias)[0].getSerialNumber());

        Files.writeString(live.keyFile(), "not a key");
        assertEquals(renewed.serial(), keys.certificate().getSerialNumber());
        assertThrows(IllegalArgumentException.class, () -> new ReloadingKeyManager(live.certFile(), live.keyFile()));
    }

    @Test
    void flagsAreCheckedAsEtcdChecksThem() {
        ServerConfig https = new ServerConfig().listenClientUrls(Urls.parse("https://127.0.0.1:0"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, https::conclude);
        assertEquals("TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:0 with HTTPS scheme",
                e.getMessage());
        TlsSettings tls13 = TlsSettings.NONE.withMinVersion("TLS1.3").withCipherSuites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        e = assertThrows(IllegalArgumentException.class, () -> tls13.check(java.util.List.of(), java.util.List.of(), java.util.List.of()));
        assertEquals("cipher suites cannot be configured when only TLS1.3 is enabled", e.getMessage());
        assertEquals(java.util.List.of("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
                TlsSettings.NONE.withCipherSuites("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305").cipherSuites());
        assertThrows(IllegalArgumentException.class, () -> new TlsContexts(TlsSettings.NONE.withCipherSuites("TLS_NO_SUCH_SUITE")));
    }

    @Test
    void aMemberWithoutTlsFlagsBuildsItsChannelContextsOnlyWhenItFirstDialsHttps() {
        TlsContexts none = new TlsContexts(TlsSettings.NONE);
        assertFalse(none.channelContextsBuilt());
        assertTrue(none.toPeer(java.net.URI.create("http://127.0.0.1:2380")) instanceof io.grpc.InsecureChannelCredentials);
        assertFalse(none.channelContextsBuilt());
        io.grpc.ChannelCredentials https = none.toPeer(java.net.URI.create("https://127.0.0.1:2380"));
        assertTrue(none.channelContextsBuilt());
        assertFalse(https instanceof io.grpc.InsecureChannelCredentials);
        assertEquals(https.getClass(), none.toClientUrl(java.net.URI.create("https://127.0.0.1:2379")).getClass());
        // with any TLS flag the contexts are built (and checked) at start
        assertTrue(new TlsContexts(TlsSettings.NONE.withMinVersion("TLS1.3")).channelContextsBuilt());
    }
}
