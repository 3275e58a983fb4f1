package io.vigil.robustness.cluster;

import io.vigil.testkit.Link;
import io.vigil.testkit.FaultProxy;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Peer links for members that dial by URL whatever the JVM thinks (etcd, in Go): one
 * {@link FaultProxy} in front of each member's peer listener, which the member advertises, and
 * each connection into it attributed to its sender, so that a link is still one direction
 * between two members.
 *
 * <p>The sender is read from the connection's first HTTP request: etcd's rafthttp sets
 * {@code X-Server-From: <member id in hex>} on its stream GETs ({@code /raft/stream/...}) and its
 * pipeline and snapshot POSTs ({@code /raft}, {@code /raft/snapshot}). Other peer requests (the
 * leader's {@code /version} polls, {@code /members} of a joiner, lease renewals forwarded to the
 * leader, {@code /raft/probing}) carry no such header; their sender is found from /proc
 * ({@link SocketOwners}). A connection keeps its sender: Go reuses a connection only for requests
 * of the process that opened it.
 *
 * <p>Directions: on a connection dialed by A into B, what A writes (request bytes: pipeline
 * messages, POSTed snapshots, the stream GET itself) goes through {@code link(A, B)}; what B
 * writes back (responses: on a stream GET, B's Raft messages to A) through {@code link(B, A)}.
 * So blocking link(A, B) silences A towards B on both A's pipeline and B's stream, and nothing
 * else. Connections whose sender stays unknown go through a link of their own per receiver,
 * which {@link #linksOf} includes, so an isolation still silences them.
 */
final class SenderRoutedLinks implements PeerLinks {
    private static final String UNKNOWN = "?";

    private final Supplier<List<Member>> members;
    private final Map<Member, FaultProxy> proxies = new ConcurrentHashMap<>();
    private final Map<String, Link> links = new ConcurrentHashMap<>();
    private final AtomicInteger byHeader = new AtomicInteger();
    private final AtomicInteger byOwner = new AtomicInteger();
    private final AtomicInteger unknown = new AtomicInteger();
    /** Of the connections attributed by X-Server-From, how many /proc confirmed or contradicted. */
    private final AtomicInteger agreeing = new AtomicInteger();
    private final AtomicInteger disagreeing = new AtomicInteger();

    /** @param members the cluster's current members, with their ids as far as known */
    SenderRoutedLinks(Supplier<List<Member>> members) {
        this.members = members;
    }

    private Link linkOf(String from, String to) {
        return links.computeIfAbsent(from + "->" + to, Link::new);
    }

    @Override
    public void add(Member m) {
        InetAddress lo = InetAddress.getLoopbackAddress();
        proxies.put(m, FaultProxy.start(new InetSocketAddress(lo, Ports.free()), new InetSocketAddress(lo, m.peerPort()),
                (head, dialer) -> route(m, head, dialer)));
    }

    private FaultProxy.Route route(Member to, byte[] head, InetSocketAddress dialer) {
        Member from = null;
        long id = serverFrom(head);
        List<Member> current = members.get();
        for (Member m : current) {
            if (id != 0 && m.id() == id) {
                from = m;
            }
        }
        Member owner = owner(to, dialer, current);
        if (from != null) {
            byHeader.incrementAndGet();
            // the header is what etcd says; /proc is what the kernel says: they must agree
            if (owner != null && owner != from) {
                disagreeing.incrementAndGet();
                ProcessCluster.LOG.log(Level.WARNING, "a connection into {0} says X-Server-From {1} but {2} dialed it",
                        to.name(), from.name(), owner.name());
            } else if (owner != null) {
                agreeing.incrementAndGet();
            }
        } else {
            from = owner;
            (from != null ? byOwner : unknown).incrementAndGet();
        }
        String request = firstLine(head);
        ProcessCluster.LOG.log(Level.DEBUG, "peer connection into {0} from {1}: {2}", to.name(),
                from == null ? UNKNOWN : from.name(), request);
        String f = from == null ? UNKNOWN : from.name();
        return new FaultProxy.Route(linkOf(f, to.name()), linkOf(to.name(), f));
    }

    /** The member whose process dialed {@code dialer} into {@code to}'s proxy, by /proc; null if none. */
    private Member owner(Member to, InetSocketAddress dialer, List<Member> current) {
        List<Long> pids = new ArrayList<>();
        current.forEach(m -> {
            if (m.process() != null) {
                pids.add(m.process().pid());
            }
        });
        FaultProxy proxy = proxies.get(to);
        long pid = proxy == null ? -1 : SocketOwners.owner(dialer.getPort(), proxy.port(), pids);
        for (Member m : current) {
            if (pid > 0 && m.process() != null && m.process().pid() == pid) {
                return m;
            }
        }
        return null;
    }

    /** The X-Server-From header of an HTTP request head, as a member id; 0 when absent. */
    static long serverFrom(byte[] head) {
        for (String line : new String(head, StandardCharsets.ISO_8859_1).split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("X-Server-From")) {
                try {
                    return Long.parseUnsignedLong(line.substring(colon + 1).trim(), 16);
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    private static String firstLine(byte[] head) {
        String s = new String(head, StandardCharsets.ISO_8859_1);
        int end = s.indexOf("\r\n");
        return end < 0 ? s : s.substring(0, end);
    }

    @Override
    public void remove(Member m) {
        FaultProxy p = proxies.remove(m);
        if (p != null) {
            p.close();
        }
    }

    @Override
    public String advertisedPeerUrl(Member m) {
        return "http://127.0.0.1:" + proxies.get(m).port();
    }

    @Override
    public List<String> jvmOptions(Member m) {
        return List.of();
    }

    @Override
    public Link link(Member from, Member to) {
        return linkOf(from.name(), to.name());
    }

    @Override
    public List<Link> linksOf(Member m) {
        List<Link> out = new ArrayList<>(List.of(linkOf(UNKNOWN, m.name()), linkOf(m.name(), UNKNOWN)));
        for (Member o : members.get()) {
            if (o != m) {
                out.add(link(m, o));
                out.add(link(o, m));
            }
        }
        return out;
    }

    @Override
    public List<Link> all() {
        return List.copyOf(links.values());
    }

    /** How the senders of the connections so far were found: by X-Server-From, by /proc, not at all. */
    String routing() {
        return "senders by X-Server-From " + byHeader.get() + " (/proc agreed " + agreeing.get() + ", disagreed "
                + disagreeing.get() + "), by /proc " + byOwner.get() + ", unknown " + unknown.get();
    }

    @Override
    public void close() {
        proxies.values().forEach(FaultProxy::close);
        proxies.clear();
    }

    @Override
    public String toString() {
        return routing();
    }
}
