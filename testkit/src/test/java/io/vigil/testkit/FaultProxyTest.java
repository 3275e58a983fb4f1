package io.vigil.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fault proxy in front of an echo server: what passes, what is held, what is reset. */
class FaultProxyTest {
    private ServerSocket echo;
    private FaultProxy proxy;

    @BeforeEach
    void startEcho() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (true) {
                Socket s;
                try {
                    s = echo.accept();
                } catch (IOException closed) {
                    return;
                }
                Thread e = new Thread(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        in.transferTo(out);
                    } catch (IOException ignored) {
                        // the client went away
                    }
                }, "echo");
                e.setDaemon(true);
                e.start();
            }
        }, "echo-accept");
        t.setDaemon(true);
        t.start();
        proxy = FaultProxy.start(echo.getLocalPort());
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        echo.close();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(proxy.address().getAddress(), proxy.port());
        s.setSoTimeout(10_000);
        return s;
    }

    private static byte[] read(Socket s, int n) throws IOException {
        return s.getInputStream().readNBytes(n);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void forwardsBothWaysAndPassesAHalfClose() throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write(bytes("hello"));
            assertArrayEquals(bytes("hello"), read(s, 5));
            s.shutdownOutput();
            assertEquals(-1, s.getInputStream().read(), "the echo server's close comes through");
        }
        assertEquals(1, proxy.acceptedConnections());
    }

    @Test
    void aBlackholeHoldsBytesOfOldAndNewConnectionsAndDeliversThemInOrderWhenUnblocked() throws IOException {
        try (Socket before = connect()) {
            before.getOutputStream().write(bytes("a"));
            assertArrayEquals(bytes("a"), read(before, 1));
            proxy.block();
            before.getOutputStream().write(bytes("bc"));
            try (Socket during = connect()) {
                during.getOutputStream().write(bytes("xyz"));
                // nothing may come back while blocked; a short wait shows none did so far
                before.setSoTimeout(300);
                during.setSoTimeout(300);
                assertThrows(SocketTimeoutException.class, () -> before.getInputStream().read());
                assertThrows(SocketTimeoutException.class, () -> during.getInputStream().read());
                assertTrue(before.isConnected() && !before.isClosed());
                proxy.unblock();
                before.setSoTimeout(10_000);
                during.setSoTimeout(10_000);
                assertArrayEquals(bytes("bc"), read(before, 2));
                assertArrayEquals(bytes("xyz"), read(during, 3));
            }
        }
    }

    @Test
    void aCutResetsOpenConnectionsAndRefusesNewOnesUntilUnblocked() throws IOException {
        try (Socket before = connect()) {
            before.getOutputStream().write(bytes("a"));
            assertArrayEquals(bytes("a"), read(before, 1));
            proxy.cut();
            assertThrows(IOException.class, () -> {
                // a reset shows as an error on read, or as the end of the stream on some kernels
                if (before.getInputStream().read() == -1) {
                    throw new IOException("closed");
                }
            });
        }
        try (Socket during = connect()) {
            assertThrows(IOException.class, () -> {
                if (during.getInputStream().read() == -1) {
                    throw new IOException("closed");
                }
            });
        }
        proxy.unblock();
        try (Socket after = connect()) {
            after.getOutputStream().write(bytes("again"));
            assertArrayEquals(bytes("again"), read(after, 5));
        }
    }

    @Test
    void aDelayHoldsEveryChunkAtLeastThatLong() throws IOException {
        proxy.delay(Duration.ofMillis(200));
        try (Socket s = connect()) {
            long start = System.nanoTime();
            s.getOutputStream().write(bytes("ping"));
            assertArrayEquals(bytes("ping"), read(s, 4));
            // there and back: at least two delays (a lower bound only; a slow machine takes longer)
            assertTrue(System.nanoTime() - start >= Duration.ofMillis(400).toNanos());
            proxy.delay(Duration.ZERO);
            s.getOutputStream().write(bytes("pong"));
            assertArrayEquals(bytes("pong"), read(s, 4));
        }
    }

    @Test
    void aDropLosesBytesAndResetsTheConnectionsThatLostSomeWhenItEnds() throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write(bytes("a"));
            assertArrayEquals(bytes("a"), read(s, 1));
            proxy.drop();
            s.getOutputStream().write(bytes("lost"));
            s.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read());
            proxy.unblock();
            s.setSoTimeout(10_000);
            assertThrows(IOException.class, () -> {
                if (s.getInputStream().read() == -1) {
                    throw new IOException("closed");
                }
            }, "a stream that lost bytes cannot go on");
        }
        try (Socket after = connect()) {
            after.getOutputStream().write(bytes("again"));
            assertArrayEquals(bytes("again"), read(after, 5));
        }
    }

    @Test
    void aRouterPicksEachDirectionsLinkFromTheFirstBytes() throws IOException {
        Link fromA = new Link("a->echo");
        Link toA = new Link("echo->a");
        Link other = new Link("other");
        try (FaultProxy routed = FaultProxy.start(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), echo.getLocalPort()),
                (head, dialer) -> new String(head, StandardCharsets.US_ASCII).contains("X-Server-From: a\r\n")
                        ? new FaultProxy.Route(fromA, toA) : new FaultProxy.Route(other, other))) {
            String request = "GET / HTTP/1.1\r\nX-Server-From: a\r\n\r\n";
            toA.block();
            try (Socket s = new Socket(routed.address().getAddress(), routed.port())) {
                s.getOutputStream().write(bytes(request));
                s.setSoTimeout(300);
                assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read(), "the echo is held on the way back");
                toA.unblock();
                s.setSoTimeout(10_000);
                assertArrayEquals(bytes(request), read(s, request.length()));
            }
            toA.block();
            try (Socket s = new Socket(routed.address().getAddress(), routed.port())) {
                String anonymous = "GET / HTTP/1.1\r\n\r\n";
                s.getOutputStream().write(bytes(anonymous));
                s.setSoTimeout(10_000);
                assertArrayEquals(bytes(anonymous), read(s, anonymous.length()), "another sender's link is open");
            }
            toA.unblock();
        }
    }
}
