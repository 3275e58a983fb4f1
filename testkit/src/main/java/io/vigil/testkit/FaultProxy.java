package io.vigil.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy that injects network faults: it listens on one address and forwards every
 * connection it accepts to a target address, byte for byte, until told otherwise. Self-contained
 * (plain {@code java.net}, daemon threads), so it can stand in front of any TCP server.
 *
 * <p>Each direction of each connection goes through a {@link Link}, which holds its faults
 * (blackhole, drop, delay). By default both directions of every connection share the proxy's own
 * link ({@link #link()}, which {@link #block()}, {@link #drop()}, {@link #delay(Duration)} and
 * {@link #unblock()} act on); a proxy may instead be given a fixed {@link Route} (one link each
 * way), or a {@link Router} that picks the two links of each connection from the first bytes the
 * dialer sent (e.g. an HTTP request's headers naming the sender), so that one listener can carry
 * many directed links.
 *
 * <p>A blackhole holds bytes: a chunk already past the gate when {@code block()} is called may
 * still be delivered, as a packet already on the wire would be; every byte that arrives after it
 * returns is held (up to {@value #HELD_CHUNKS} chunks per direction and connection, then the
 * sender's TCP window fills) and delivered in order once unblocked. New connections are accepted
 * (and connected to the target) and stall the same way.
 *
 * <p>{@link #cut()} is the proxy's own: every open connection is reset (RST to both sides, held
 * bytes dropped) and new ones are accepted and reset at once, until {@link #unblock()}: what a
 * client sees when the other side's host is up but its process or port is gone.
 *
 * <p>Threads: one accepting, and per connection and direction one reading into a bounded queue
 * and one writing from it; all daemon, all ended by {@link #close()}.
 */
public final class FaultProxy implements AutoCloseable {
    private static final int CHUNK_BYTES = 16 * 1024;
    private static final int HELD_CHUNKS = 16;
    /** How much of a connection's first bytes a router may look at, and how long we wait for them. */
    private static final int HEAD_BYTES = 8 * 1024;
    private static final int HEAD_TIMEOUT_MS = 5000;

    /** Picks the links of a new connection. */
    public interface Router {
        /**
         * @param head the first bytes the dialer sent (up to the end of an HTTP request head, at
         *             most {@value #HEAD_BYTES}; possibly empty if it sent nothing for a while)
         * @param dialer the dialer's address, as the proxy accepted it
         */
        Route route(byte[] head, InetSocketAddress dialer);
    }

    /** The links of one connection: what the dialer sends to the target, and what it gets back. */
    public record Route(Link toTarget, Link fromTarget) {
    }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final String name;
    private final Link link;
    /** Null: every connection goes through {@link #fixed}. */
    private final Router router;
    /** The links of every connection when there is no router: by default the proxy's own, both ways. */
    private final Route fixed;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile boolean cut;
    private volatile boolean closed;

    private FaultProxy(InetSocketAddress listen, InetSocketAddress target, Router router, Route fixed)
            throws IOException {
        this.target = target;
        this.router = router;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(listen, 128);
        this.name = "fault-proxy-" + server.getInetAddress().getHostAddress() + ":" + server.getLocalPort()
                + "->" + target.getPort();
        this.link = new Link(name);
        this.fixed = fixed != null ? fixed : new Route(link, link);
        Thread t = new Thread(this::acceptLoop, name + "-accept");
        t.setDaemon(true);
        t.start();
    }

    /** A proxy on {@code listen} (port 0: a free port) forwarding to {@code target}. */
    public static FaultProxy start(InetSocketAddress listen, InetSocketAddress target) {
        return start(listen, target, (Router) null);
    }

    /** As {@link #start(InetSocketAddress, InetSocketAddress)}, each connection's links chosen by {@code router}. */
    public static FaultProxy start(InetSocketAddress listen, InetSocketAddress target, Router router) {
        try {
            return new FaultProxy(listen, target, router, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + listen, e);
        }
    }

    /** As {@link #start(InetSocketAddress, InetSocketAddress)}, every connection through the links of {@code route}. */
    public static FaultProxy start(InetSocketAddress listen, InetSocketAddress target, Route route) {
        try {
            return new FaultProxy(listen, target, null, route);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + listen, e);
        }
    }

    /** A proxy on a free loopback port forwarding to {@code targetPort} on loopback. */
    public static FaultProxy start(int targetPort) {
        InetAddress lo = InetAddress.getLoopbackAddress();
        return start(new InetSocketAddress(lo, 0), new InetSocketAddress(lo, targetPort));
    }

    /** Where the proxy listens. */
    public InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far (reset ones included): a proxy nobody dials proves nothing. */
    public int acceptedConnections() {
        return accepted.get();
    }

    /** The proxy's own link: both directions of every connection when there is no router. */
    public Link link() {
        return link;
    }

    /** Blackholes the proxy's link, holding bytes: see {@link Link#block()}. */
    public void block() {
        link.block();
    }

    /** Blackholes the proxy's link, losing bytes: see {@link Link#drop()}. */
    public void drop() {
        link.drop();
    }

    /** Resets every connection and every new one: see the class comment. */
    public void cut() {
        cut = true;
        for (Connection c : List.copyOf(connections)) {
            c.close(true);
        }
    }

    /** Forwards again: ends a cut and the proxy's link's blackhole or drop. */
    public void unblock() {
        cut = false;
        link.unblock();
    }

    /** Adds {@code d} of one-way latency on the proxy's link (zero: none). */
    public void delay(Duration d) {
        link.delay(d);
    }

    public boolean isBlocked() {
        return cut || link.isBlocked();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Connection c : List.copyOf(connections)) {
            c.close(true);
        }
    }

    @Override
    public String toString() {
        return link + (cut ? " CUT" : "");
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            if (cut || closed) {
                reset(client);
                continue;
            }
            Thread t = new Thread(() -> connect(client), name + "-connect");
            t.setDaemon(true);
            t.start();
        }
    }

    private void connect(Socket client) {
        Socket upstream = new Socket();
        byte[] head = new byte[0];
        Route route = fixed;
        try {
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            if (router != null) {
                head = readHead(client);
                route = router.route(head, (InetSocketAddress) client.getRemoteSocketAddress());
            }
            upstream.connect(target, 5000);
        } catch (IOException | RuntimeException e) {
            // the target is down (or the dialer went away): the client sees its connection reset
            reset(client);
            reset(upstream);
            return;
        }
        Connection c = new Connection(client, upstream, route);
        connections.add(c);
        // a cut() or close() that ran before the add must still reach this connection
        if (cut || closed) {
            c.close(true);
            return;
        }
        c.start(head);
    }

    /**
     * Reads the dialer's first bytes, up to the end of an HTTP/1 request head ("\r\n\r\n"),
     * {@value #HEAD_BYTES} bytes, or {@value #HEAD_TIMEOUT_MS} ms of silence, whichever first.
     */
    private static byte[] readHead(Socket client) throws IOException {
        byte[] buf = new byte[HEAD_BYTES];
        int n = 0;
        client.setSoTimeout(HEAD_TIMEOUT_MS);
        InputStream in = client.getInputStream();
        try {
            while (n < buf.length && !endsHead(buf, n)) {
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
        } catch (java.net.SocketTimeoutException silent) {
            // the dialer waits for us first: route on what came
        }
        client.setSoTimeout(0);
        return Arrays.copyOf(buf, n);
    }

    private static boolean endsHead(byte[] buf, int n) {
        for (int i = 3; i < n; i++) {
            if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' && buf[i] == '\n') {
                return true;
            }
        }
        return false;
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // not connected: closing is all there is
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // gone already
        }
    }

    /** A chunk of bytes read from one side, and when it may be written to the other; null data: end of stream. */
    private record Chunk(byte[] data, long due) {
    }

    private final class Connection {
        private final Socket client;
        private final Socket upstream;
        private final Route route;
        private final BlockingQueue<Chunk> toUpstream = new ArrayBlockingQueue<>(HELD_CHUNKS + 1);
        private final List<Thread> threads;
        private final AtomicInteger openDirections = new AtomicInteger(2);
        private final AtomicBoolean done = new AtomicBoolean();
        private final Runnable resetHard = () -> close(true);

        Connection(Socket client, Socket upstream, Route route) {
            this.client = client;
            this.upstream = upstream;
            this.route = route;
            BlockingQueue<Chunk> toClient = new ArrayBlockingQueue<>(HELD_CHUNKS);
            this.threads = List.of(
                    thread("read-client", () -> read(client, route.toTarget(), toUpstream)),
                    thread("write-upstream", () -> write(toUpstream, route.toTarget(), upstream)),
                    thread("read-upstream", () -> read(upstream, route.fromTarget(), toClient)),
                    thread("write-client", () -> write(toClient, route.fromTarget(), client)));
        }

        private Thread thread(String what, Runnable r) {
            Thread t = new Thread(r, name + "-" + what);
            t.setDaemon(true);
            return t;
        }

        /** Starts forwarding; {@code head}, already read from the client, goes first. */
        void start(byte[] head) {
            if (head.length > 0 && !route.toTarget().dropping(resetHard)) {
                toUpstream.add(new Chunk(head, route.toTarget().due()));
            }
            threads.forEach(Thread::start);
        }

        private void read(Socket from, Link link, BlockingQueue<Chunk> queue) {
            try {
                InputStream in = from.getInputStream();
                byte[] buf = new byte[CHUNK_BYTES];
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        queue.put(new Chunk(null, link.due()));
                        return;
                    }
                    if (link.dropping(resetHard)) {
                        continue;
                    }
                    queue.put(new Chunk(Arrays.copyOf(buf, n), link.due()));
                }
            } catch (IOException | InterruptedException e) {
                close(false);
            }
        }

        private void write(BlockingQueue<Chunk> queue, Link link, Socket to) {
            try {
                OutputStream out = to.getOutputStream();
                while (true) {
                    Chunk c = queue.take();
                    link.awaitPassable(c.due());
                    if (closed || cut) {
                        throw new InterruptedException("proxy closed or cut");
                    }
                    if (c.data() == null) {
                        // half-close, as the sender did; the connection ends when both sides have
                        to.shutdownOutput();
                        if (openDirections.decrementAndGet() == 0) {
                            close(false);
                        }
                        return;
                    }
                    out.write(c.data());
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                close(false);
            }
        }

        /** Ends the connection on both sides; {@code hard}: with a reset instead of a close. */
        void close(boolean hard) {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            connections.remove(this);
            if (hard) {
                reset(client);
                reset(upstream);
            } else {
                try {
                    client.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
                try {
                    upstream.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            for (Thread t : threads) {
                if (t != Thread.currentThread()) {
                    t.interrupt();
                }
            }
        }
    }
}
