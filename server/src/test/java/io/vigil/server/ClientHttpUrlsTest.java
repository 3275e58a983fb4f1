package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd 3.5's --listen-client-http-urls: with it, the client URLs serve gRPC alone (an HTTP/1.1
 * request there is not answered as HTTP) and the HTTP endpoints (/health, /metrics, the JSON
 * gateway) are served on the HTTP URLs; over TLS, both with the client port's certificate.
 */
class ClientHttpUrlsTest {
    @TempDir
    Path tmp;

    @Test
    void grpcOnTheClientUrlsAndHttpOnTheHttpUrls() throws Exception {
        Curl.assumeInstalled();
        try (VigilServer server = VigilServer.start(new ServerConfig().dataDir(tmp.resolve("data"))
                .listenClientUrls(List.of(URI.create("http://127.0.0.1:0")))
                .listenClientHttpUrls(List.of(URI.create("http://127.0.0.1:0"))), fatal -> { });
             ClusterClients clients = new ClusterClients()) {
            String grpc = endpoint(server.clientAddresses().get(0));
            assertEquals(1, server.clientHttpAddresses().size());
            String http = endpoint(server.clientHttpAddresses().get(0));

            ManagedChannel ch = clients.channel(grpc);
            KVGrpc.newBlockingStub(ch).put(PutRequest.newBuilder().setKey(bytes("a")).setValue(bytes("1")).build());

            Curl.Reply health = Curl.request(http, "GET", "/health");
            assertEquals(200, health.status(), health.toString());
            assertTrue(health.body().contains("\"health\":\"true\""), health.toString());
            assertEquals(200, Curl.request(http, "GET", "/metrics").status());
            Curl.Reply put = Curl.post(http, "/v3/kv/put", "{\"key\":\"" + Curl.b64("b") + "\",\"value\":\"" + Curl.b64("2") + "\"}", null);
            assertEquals(200, put.status(), put.toString());
            Curl.Reply range = Curl.post(http, "/v3/kv/range", "{\"key\":\"" + Curl.b64("a") + "\"}", null);
            assertTrue(range.body().contains("\"value\":\"" + Curl.b64("1") + "\""), range.toString());
            assertEquals("2", KVGrpc.newBlockingStub(ch).range(RangeRequest.newBuilder().setKey(bytes("b")).build())
                    .getKvs(0).getValue().toStringUtf8());

            String answer = http1Answer(server.clientAddresses().get(0));
            assertFalse(answer.startsWith("HTTP/"), "the gRPC-only port answered HTTP/1.1: " + answer);
        }
    }

    @Test
    void overTlsBothFollowTheClientCertificate() throws Exception {
        TestCerts certs = new TestCerts(tmp);
        TestCerts.Ca ca = certs.ca("ca");
        TestCerts.Leaf cert = certs.leaf(ca, "server", true);
        TestCerts.Leaf client = certs.leaf(ca, "client", true);
        TlsSettings tls = TlsSettings.NONE.withClient(TlsSettings.Side.NONE.withCertFile(cert.certFile()).withKeyFile(cert.keyFile()));
        try (VigilServer server = VigilServer.start(new ServerConfig().dataDir(tmp.resolve("data"))
                .listenClientUrls(List.of(URI.create("https://127.0.0.1:0")))
                .listenClientHttpUrls(List.of(URI.create("https://127.0.0.1:0"))).tls(tls), fatal -> { })) {
            String grpc = endpoint(server.clientAddresses().get(0));
            String http = endpoint(server.clientHttpAddresses().get(0));
            try (Client jetcd = Client.builder().endpoints("https://" + grpc)
                    .sslContext(GrpcSslContexts.forClient().trustManager(ca.certFile().toFile()).build()).build()) {
                jetcd.getKVClient().put(ByteSequence.from("k", StandardCharsets.UTF_8), ByteSequence.from("v", StandardCharsets.UTF_8))
                        .get(ClusterClients.PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
            HttpClient https = HttpClient.newBuilder().sslContext(TlsClientTest.sslContext(ca, client))
                    .version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> health = https.send(HttpRequest.newBuilder(URI.create("https://" + http + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            HttpResponse<String> range = https.send(HttpRequest.newBuilder(URI.create("https://" + http + "/v3/kv/range"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + Curl.b64("k") + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(range.body().contains("\"value\":\"" + Curl.b64("v") + "\""), range.body());
            assertThrows(IOException.class, () -> https.send(HttpRequest.newBuilder(URI.create("https://" + grpc + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
    }

    @Test
    void aBadHttpUrlIsRefusedNamingTheFlag() {
        ServerFlags.FlagException e = assertThrows(ServerFlags.FlagException.class,
                () -> ServerFlags.parse(new String[] {"--listen-client-http-urls", "127.0.0.1:2379"}));
        assertTrue(e.getMessage().contains("--listen-client-http-urls"), e.getMessage());
        e = assertThrows(ServerFlags.FlagException.class,
                () -> ServerFlags.parse(new String[] {"--listen-client-http-urls", "https://127.0.0.1:2379"}));
        assertTrue(e.getMessage().contains("--cert-file"), e.getMessage());
    }

    /** What a server sends back to an HTTP/1.1 request, up to its closing the connection (ASCII, control bytes as they are). */
    private static String http1Answer(InetSocketAddress address) throws IOException {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            s.setSoTimeout((int) ClusterClients.PATIENCE.toMillis());
            s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    got.write(buf, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new IllegalStateException("the connection stayed open without an answer for " + ClusterClients.PATIENCE, e);
            } catch (IOException reset) {
                // closed by the server with a reset: what it sent before counts
            }
            return got.toString(StandardCharsets.US_ASCII);
        }
    }

    private static String endpoint(InetSocketAddress a) {
        return "127.0.0.1:" + a.getPort();
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }
}
