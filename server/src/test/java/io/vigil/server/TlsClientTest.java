package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.grpc.netty.GrpcSslContexts;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client port over TLS with client certificate authentication, against real server
 * processes: etcdctl with {@code --cacert --cert --key} and jetcd are served; a client without a
 * certificate, or with one from another CA, is refused at the handshake, as a client refuses an
 * expired server certificate (compared with a real etcd's exit codes); /metrics is served over
 * the same TLS; replaced certificate and CA files are used by the next connection.
 */
class TlsClientTest {
    @TempDir
    static Path dir;
    static TestCerts.Ca ca;
    static TestCerts.Ca otherCa;
    static TestCerts.Leaf server;
    static TestCerts.Leaf client;
    static TestCerts.Leaf stranger;
    static VigilProcess vigil;

    @BeforeAll
    static void start() {
        TestCerts certs = new TestCerts(dir);
        ca = certs.ca("ca");
        otherCa = certs.ca("other-ca");
        server = certs.leaf(ca, "server", true);
        client = certs.leaf(ca, "client", true);
        stranger = certs.leaf(otherCa, "stranger", false);
        vigil = VigilProcess.start(dir.resolve("vigil"), serverFlags(server).toArray(String[]::new));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (vigil != null) {
            vigil.close();
        }
    }

    /** The flags of a server with client TLS and client certificate authentication, on a free port. */
    static List<String> serverFlags(TestCerts.Leaf cert) {
        return new ArrayList<>(List.of("--listen-client-urls", "https://127.0.0.1:0",
                "--cert-file", cert.certFile().toString(), "--key-file", cert.keyFile().toString(),
                "--trusted-ca-file", ca.certFile().toString(), "--client-cert-auth"));
    }

    static List<String> tlsArgs(TestCerts.Ca trusted, TestCerts.Leaf presented) {
        List<String> args = new ArrayList<>(List.of("--cacert", trusted.certFile().toString()));
        if (presented != null) {
            args.addAll(List.of("--cert", presented.certFile().toString(), "--key", presented.keyFile().toString()));
        }
        return args;
    }

    static Etcdctl.Result etcdctl(String endpoint, List<String> tls, String... args) {
        List<String> all = new ArrayList<>(tls);
        all.addAll(List.of(args));
        return Etcdctl.run(endpoint, null, all.toArray(String[]::new));
    }

    /**
     * {@code tls} with short dial and command timeouts, for calls expected to be refused at the
     * handshake: etcdctl keeps redialing until its dial timeout, so a refusal would otherwise cost
     * the default's seconds (the later flag wins over {@link Etcdctl#run}'s defaults).
     */
    static List<String> expectingRefusal(List<String> tls) {
        List<String> args = new ArrayList<>(tls);
        args.addAll(List.of("--dial-timeout", "1s", "--command-timeout", "3s"));
        return args;
    }

    /** The cases every client TLS server is put through, with the exit code etcdctl should end with. */
    private record Case(String name, List<String> tls, boolean served) {
        List<String> args() {
            return served ? tls : expectingRefusal(tls);
        }
    }

    private static List<Case> cases() {
        return List.of(
                new Case("client certificate of the trusted CA", tlsArgs(ca, client), true),
                new Case("no client certificate", tlsArgs(ca, null), false),
                new Case("client certificate of another CA", tlsArgs(ca, stranger), false),
                new Case("server's CA not trusted", tlsArgs(otherCa, client), false));
    }

    @Test
    void etcdctlWithAClientCertificateOfTheTrustedCaIsServedAndOthersAreRefused() {
        Etcdctl.Result put = etcdctl(vigil.endpoint(), tlsArgs(ca, client), "put", "greeting", "hello");
        assertEquals(0, put.exitCode(), put.stderr());
        Etcdctl.Result get = etcdctl(vigil.endpoint(), tlsArgs(ca, client), "get", "greeting", "--print-value-only");
        assertEquals(0, get.exitCode(), get.stderr());
        assertEquals("hello", get.stdout().trim());
        for (Case c : cases()) {
            Etcdctl.Result r = etcdctl(vigil.endpoint(), c.args(), "get", "greeting");
            assertEquals(c.served(), r.exitCode() == 0, c.name() + ": " + r.normalized());
        }
        // the handshakes the server refused itself are logged as etcd logs them
        assertTrue(vigil.output().stream().anyMatch(l -> l.contains("rejected connection from")), String.join("\n", vigil.output()));
    }

    @Test
    void etcdRefusesTheSameClients() throws Exception {
        List<String> flags = serverFlags(server).subList(2, serverFlags(server).size());
        try (ReferenceEtcd etcd = ReferenceEtcd.startTls(dir, tlsArgs(ca, client), flags.toArray(String[]::new))) {
            for (Case c : cases()) {
                Etcdctl.Result fromEtcd = etcdctl(etcd.endpoint(), c.args(), "put", "k", "v");
                Etcdctl.Result fromVigil = etcdctl(vigil.endpoint(), c.args(), "put", "k", "v");
                assertEquals(fromEtcd.exitCode(), fromVigil.exitCode(), c.name() + "\netcd: " + fromEtcd.normalized()
                        + "\nvigil: " + fromVigil.normalized());
            }
        }
    }

    @Test
    void anExpiredServerCertificateIsRefusedByTheClientAsEtcdsIs() throws Exception {
        TestCerts.Leaf expired = new TestCerts(dir).expired(ca, "expired");
        Etcdctl.Result fromVigil;
        try (VigilProcess v = VigilProcess.start(dir.resolve("expired-vigil"), serverFlags(expired).toArray(String[]::new))) {
            fromVigil = etcdctl(v.endpoint(), expectingRefusal(tlsArgs(ca, client)), "put", "k", "v");
        }
        assertNotEquals(0, fromVigil.exitCode(), fromVigil.normalized());
        ReferenceEtcd.assumeInstalled();
        List<String> flags = serverFlags(expired).subList(2, serverFlags(expired).size());
        // etcd starts with an expired certificate too; its health check cannot pass, so it is asked directly
        int port = VigilCluster.freePort();
        int peer = VigilCluster.freePort();
        List<String> cmd = new ArrayList<>(List.of("etcd", "--name", "ref", "--data-dir", dir.resolve("expired-etcd").toString(),
                "--listen-client-urls", "https://127.0.0.1:" + port, "--advertise-client-urls", "https://127.0.0.1:" + port,
                "--listen-peer-urls", "http://127.0.0.1:" + peer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
                "--initial-cluster", "ref=http://127.0.0.1:" + peer, "--log-level", "error"));
        cmd.addAll(flags);
        Process etcd = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("expired-etcd.log").toFile()).start();
        try {
            // etcd is up once its port takes TCP connections; the TLS handshake is what fails
            org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> {
                try (var s = new java.net.Socket("127.0.0.1", port)) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            Etcdctl.Result fromEtcd = etcdctl("127.0.0.1:" + port, expectingRefusal(tlsArgs(ca, client)), "put", "k", "v");
            assertEquals(fromEtcd.exitCode(), fromVigil.exitCode(), "etcd: " + fromEtcd.normalized() + "\nvigil: " + fromVigil.normalized());
        } finally {
            etcd.destroy();
            etcd.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void jetcdIsServedOverTls() throws Exception {
        try (Client jetcd = Client.builder().endpoints("https://" + vigil.endpoint())
                .sslContext(GrpcSslContexts.forClient().trustManager(ca.certFile().toFile())
                        .keyManager(client.certFile().toFile(), client.keyFile().toFile()).build())
                .build()) {
            KV kv = jetcd.getKVClient();
            ByteSequence key = ByteSequence.from("jetcd-key", StandardCharsets.UTF_8);
            kv.put(key, ByteSequence.from("over tls", StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
            var got = kv.get(key).get(30, TimeUnit.SECONDS);
            assertEquals("over tls", got.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void metricsAreServedOverTheSameTls() throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(sslContext(ca, client)).build();
        // Java's client offers h2 and http/1.1 in ALPN, as curl and Prometheus do
        for (HttpClient.Version version : HttpClient.Version.values()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://" + vigil.endpoint() + "/metrics"))
                    .version(version).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), version + ": " + r.body());
            assertTrue(r.body().contains("etcd_server_has_leader"), r.body());
        }
    }

    @Test
    void replacedCertificateAndCaFilesAreUsedByTheNextConnection() throws Exception {
        Path reload = Files.createDirectories(dir.resolve("reload"));
        TestCerts certs = new TestCerts(reload);
        TestCerts.Leaf live = certs.leaf(ca, "live", true);
        Path trusted = Files.copy(ca.certFile(), reload.resolve("trusted.crt"));
        List<String> flags = new ArrayList<>(List.of("--listen-client-urls", "https://127.0.0.1:0",
                "--cert-file", live.certFile().toString(), "--key-file", live.keyFile().toString(),
                "--trusted-ca-file", trusted.toString(), "--client-cert-auth"));
        try (VigilProcess v = VigilProcess.start(dir.resolve("reload-vigil"), flags.toArray(String[]::new))) {
            assertEquals(live.serial(), servedSerial(v, client));
            TestCerts.Leaf renewed = certs.leaf(ca, "renewed", false);
            TestCerts.replace(live, renewed);
            assertEquals(renewed.serial(), servedSerial(v, client), "a new connection gets the new certificate");
            Etcdctl.Result put = etcdctl(v.endpoint(), tlsArgs(ca, client), "put", "after", "reload");
            assertEquals(0, put.exitCode(), put.normalized());

            // the trusted CA file now holds the other CA: its clients are served, the first CA's refused
            Path tmp = Files.copy(otherCa.certFile(), reload.resolve("trusted.tmp"));
            Files.move(tmp, trusted, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Etcdctl.Result stranger = etcdctl(v.endpoint(), tlsArgs(ca, TlsClientTest.stranger), "put", "k", "v");
            assertEquals(0, stranger.exitCode(), stranger.normalized());
            Etcdctl.Result former = etcdctl(v.endpoint(), expectingRefusal(tlsArgs(ca, client)), "put", "k", "v");
            assertNotEquals(0, former.exitCode(), former.normalized());
        }
    }

    @Test
    void cipherSuitesAndTheMinimumVersionLimitHandshakesAsEtcdsDo() throws Exception {
        String suite = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
        String other = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
        List<String> flags = serverFlags(server);
        flags.addAll(List.of("--cipher-suites", suite));
        try (VigilProcess v = VigilProcess.start(dir.resolve("suites-vigil"), flags.toArray(String[]::new))) {
            assertTrue(handshakes(v.endpoint(), "TLSv1.2", suite));
            assertTrue(!handshakes(v.endpoint(), "TLSv1.2", other), "a TLS 1.2 suite not listed is refused");
            assertTrue(handshakes(v.endpoint(), "TLSv1.3", "TLS_AES_128_GCM_SHA256"), "TLS 1.3's suites stay, as in Go");
            assertEquals(0, etcdctl(v.endpoint(), tlsArgs(ca, client), "put", "k", "v").exitCode());
            if (ReferenceEtcd.onPath("etcd")) {
                List<String> etcdFlags = flags.subList(2, flags.size());
                try (ReferenceEtcd etcd = ReferenceEtcd.startTls(dir, tlsArgs(ca, client), etcdFlags.toArray(String[]::new))) {
                    for (String[] c : new String[][] {{"TLSv1.2", suite}, {"TLSv1.2", other}, {"TLSv1.3", "TLS_AES_128_GCM_SHA256"}}) {
                        assertEquals(handshakes(etcd.endpoint(), c[0], c[1]), handshakes(v.endpoint(), c[0], c[1]), String.join(" ", c));
                    }
                }
            }
        }
        flags = serverFlags(server);
        flags.addAll(List.of("--tls-min-version", "TLS1.3"));
        try (VigilProcess v = VigilProcess.start(dir.resolve("tls13-vigil"), flags.toArray(String[]::new))) {
            assertTrue(!handshakes(v.endpoint(), "TLSv1.2", suite), "TLS 1.2 is refused");
            assertTrue(handshakes(v.endpoint(), "TLSv1.3", "TLS_AES_256_GCM_SHA384"));
            assertEquals(0, etcdctl(v.endpoint(), tlsArgs(ca, client), "put", "k", "v").exitCode());
        }
    }

    /** Whether a client offering only {@code protocol} and {@code suite} completes a handshake (and a read) with the server. */
    private static boolean handshakes(String endpoint, String protocol, String suite) throws Exception {
        int colon = endpoint.lastIndexOf(':');
        try (SSLSocket s = (SSLSocket) sslContext(ca, client).getSocketFactory()
                .createSocket(endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1)))) {
            s.setEnabledProtocols(new String[] {protocol});
            s.setEnabledCipherSuites(new String[] {suite});
            s.startHandshake();
            return suite.equals(s.getSession().getCipherSuite());
        } catch (javax.net.ssl.SSLException e) {
            return false;
        }
    }

    /** The serial number of the certificate the server presents to a new connection (no session resumed). */
    private static BigInteger servedSerial(VigilProcess v, TestCerts.Leaf presented) throws Exception {
        try (SSLSocket s = (SSLSocket) sslContext(ca, presented).getSocketFactory().createSocket(v.host(), v.port())) {
            s.startHandshake();
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    /** A fresh TLS context that trusts {@code trusted} and presents {@code presented}. */
    static SSLContext sslContext(TestCerts.Ca trusted, TestCerts.Leaf presented) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", trusted.cert());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("me", PemFiles.privateKey(presented.keyFile()), "x".toCharArray(),
                PemFiles.certificates(presented.certFile()).toArray(X509Certificate[]::new));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(keys, "x".toCharArray());
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return c;
    }
}
