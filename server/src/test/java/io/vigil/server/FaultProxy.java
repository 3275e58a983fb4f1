package io.vigil.server;

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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy that injects network faults: it listens on one address and forwards every
 * connection it accepts to a target address, byte for byte, until told otherwise. Self-contained
 * (plain {@code java.net}, daemon threads, nothing else from Vigil), so any test can put it in
 * front of any TCP server.
 *
 * <p>Faults, each until {@link #unblock()}:
 * <ul>
 *   <li>{@link #block()} — a blackhole, the partition of etcd's robustness tests: no byte crosses
 *       in either direction, but no connection is closed either, as when a network drops packets
 *       and TCP has not given up yet. New connections are accepted (and connected to the target)
 *       and stall the same way. Nothing is discarded: bytes that arrive meanwhile are held (up
 *       to {@value #HELD_CHUNKS} chunks per direction and connection, then the sender's TCP window
 *       fills) and delivered in order once unblocked, as TCP retransmits them after a heal. A
 *       chunk already past the gate when {@code block()} is called may still be delivered, as a
 *       packet already on the wire would be; every byte that arrives after it returns is held.</li>
 *   <li>{@link #cut()} — every open connection is reset (RST to both sides, held bytes dropped)
 *       and new ones are accepted and reset at once: what a client sees when the other side's
 *       host is up but its process or port is gone. Clients notice at once and reconnect.</li>
 *   <li>{@link #delay(Duration)} — every chunk is delivered no earlier than that long after it
 *       arrived (one-way latency per direction; throughput is not limited by it).</li>
 * </ul>
 *
 * <p>Threads: one accepting, and per connection and direction one reading into a bounded queue
 * and one writing from it; all daemon, all ended by {@link #close()}.
 */
final class FaultProxy implements AutoCloseable {
    private static final int CHUNK_BYTES = 16 * 1024;
    private static final int HELD_CHUNKS = 16;

    private enum Mode { OPEN, BLACKHOLE, CUT }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final String name;
    /** Guards {@link #mode} and {@link #delayNanos} changes; writers wait on it while blocked. */
    private final Object gate = new Object();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile Mode mode = Mode.OPEN;
    private volatile long delayNanos;
    private volatile boolean closed;

    private FaultProxy(InetSocketAddress listen, InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(listen, 128);
        this.name = "fault-proxy-" + server.getInetAddress().getHostAddress() + ":" + server.getLocalPort()
                + "->" + target.getPort();
        Thread t = new Thread(this::acceptLoop, name + "-accept");
        t.setDaemon(true);
        t.start();
    }

    /** A proxy on {@code listen} (port 0: a free port) forwarding to {@code target}. */
    static FaultProxy start(InetSocketAddress listen, InetSocketAddress target) {
        try {
            return new FaultProxy(listen, target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + listen, e);
        }
    }

    /** A proxy on a free loopback port forwarding to {@code targetPort} on loopback. */
    static FaultProxy start(int targetPort) {
        InetAddress lo = InetAddress.getLoopbackAddress();
        return start(new InetSocketAddress(lo, 0), new InetSocketAddress(lo, targetPort));
    }

    /** Where the proxy listens. */
    InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far (reset ones included): a proxy nobody dials proves nothing. */
    int acceptedConnections() {
        return accepted.get();
    }

    /** Blackholes: see the class comment. */
    void block() {
        synchronized (gate) {
            mode = Mode.BLACKHOLE;
        }
    }

    /** Resets every connection and every new one: see the class comment. */
    void cut() {
        synchronized (gate) {
            mode = Mode.CUT;
            gate.notifyAll();
        }
        for (Connection c : List.copyOf(connections)) {
            c.close(true);
        }
    }

    /** Forwards again; after a blackhole, held bytes go first, in order. */
    void unblock() {
        synchronized (gate) {
            mode = Mode.OPEN;
            gate.notifyAll();
        }
    }

    /** Adds {@code d} of one-way latency to every chunk from now on (zero: none). */
    void delay(Duration d) {
        synchronized (gate) {
            delayNanos = d.toNanos();
            gate.notifyAll();
        }
    }

    boolean isBlocked() {
        return mode != Mode.OPEN;
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        synchronized (gate) {
            gate.notifyAll();
        }
        for (Connection c : List.copyOf(connections)) {
            c.close(true);
        }
    }

    @Override
    public String toString() {
        return name + (mode == Mode.OPEN ? "" : " " + mode);
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
            if (mode == Mode.CUT || closed) {
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
        try {
            upstream.setTcpNoDelay(true);
            client.setTcpNoDelay(true);
            upstream.connect(target, 5000);
        } catch (IOException e) {
            // the target is down: the client sees its connection reset, as it would without us
            reset(client);
            reset(upstream);
            return;
        }
        Connection c = new Connection(client, upstream);
        connections.add(c);
        // a cut() or close() that ran before the add must still reach this connection
        if (mode == Mode.CUT || closed) {
            c.close(true);
            return;
        }
        c.start();
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

    /**
     * Returns once a chunk that arrived with deadline {@code due} may be written: the proxy is
     * open and the delay has passed. Throws when the proxy closed or cut meanwhile.
     */
    private void awaitPassable(long due) throws InterruptedException {
        synchronized (gate) {
            while (true) {
                if (closed || mode == Mode.CUT) {
                    throw new InterruptedException("proxy closed or cut");
                }
                if (mode == Mode.BLACKHOLE) {
                    gate.wait();
                    continue;
                }
                long left = due - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(gate, left);
            }
        }
    }

    /** A chunk of bytes read from one side, and when it may be written to the other; null data: end of stream. */
    private record Chunk(byte[] data, long due) {
    }

    private final class Connection {
        private final Socket client;
        private final Socket upstream;
        private final List<Thread> threads;
        private final AtomicInteger openDirections = new AtomicInteger(2);
        private final AtomicBoolean done = new AtomicBoolean();

        Connection(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
            BlockingQueue<Chunk> toUpstream = new ArrayBlockingQueue<>(HELD_CHUNKS);
            BlockingQueue<Chunk> toClient = new ArrayBlockingQueue<>(HELD_CHUNKS);
            this.threads = List.of(
                    thread("read-client", () -> read(client, toUpstream)),
                    thread("write-upstream", () -> write(toUpstream, upstream)),
                    thread("read-upstream", () -> read(upstream, toClient)),
                    thread("write-client", () -> write(toClient, client)));
        }

        private Thread thread(String what, Runnable r) {
            Thread t = new Thread(r, name + "-" + what);
            t.setDaemon(true);
            return t;
        }

        void start() {
            threads.forEach(Thread::start);
        }

        private void read(Socket from, BlockingQueue<Chunk> queue) {
            try {
                InputStream in = from.getInputStream();
                byte[] buf = new byte[CHUNK_BYTES];
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        queue.put(new Chunk(null, System.nanoTime() + delayNanos));
                        return;
                    }
                    queue.put(new Chunk(Arrays.copyOf(buf, n), System.nanoTime() + delayNanos));
                }
            } catch (IOException | InterruptedException e) {
                close(false);
            }
        }

        private void write(BlockingQueue<Chunk> queue, Socket to) {
            try {
                OutputStream out = to.getOutputStream();
                while (true) {
                    Chunk c = queue.take();
                    awaitPassable(c.due());
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
