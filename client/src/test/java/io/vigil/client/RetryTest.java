package io.vigil.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.testkit.FaultProxy;
import io.vigil.testkit.Link;
import io.vigil.testkit.LocalServer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * What is retried and what is not, against Vigil and a real etcd: a write whose answer is lost is
 * reported as of unknown outcome and never sent again (Jepsen 2024 found jetcd resending such
 * writes, applying them twice); a member that cannot be connected to is skipped, by reads and
 * writes alike, since nothing reached it.
 */
class RetryTest {
    static final List<String> SERVERS = Servers.NAMES;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @FieldSource("SERVERS")
    void aWriteWhoseAnswerIsLostIsReportedNotRetried(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient direct = Servers.client(server)) {
            direct.kv().get("x"); // a server just started answers its first calls slowly
            Link toServer = new Link("to server");
            Link fromServer = new Link("from server");
            InetSocketAddress target = new InetSocketAddress("127.0.0.1", server.clientPort());
            try (FaultProxy proxy = FaultProxy.start(new InetSocketAddress("127.0.0.1", 0), target,
                    new FaultProxy.Route(toServer, fromServer));
                 VigilClient client = VigilClient.builder().endpoints("127.0.0.1:" + proxy.port())
                         .callTimeout(Duration.ofSeconds(3)).build()) {
                client.kv().get("x"); // the connection is up
                fromServer.block();
                VigilException e = assertThrows(VigilException.class, () -> client.kv().put("x", "once"));
                assertTrue(e.outcomeUnknown(), "the put reached the server; only its answer was lost");
                assertEquals(VigilException.Code.DEADLINE_EXCEEDED, e.code());
                fromServer.unblock();
            }
            KeyValue x = direct.kv().get("x");
            assertEquals("once", x.value());
            assertEquals(1, x.version(), "applied once, not resent");
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void aMemberThatCannotBeReachedIsSkipped(String name) {
        try (LocalServer server = Servers.start(name, tmp);
             VigilClient client = VigilClient.builder()
                     .endpoints("127.0.0.1:" + LocalServer.freePort(), server.endpoint()).build()) {
            client.kv().put("y", "written past the dead member");
            assertEquals("written past the dead member", client.kv().get("y").value());
        }
    }
}
