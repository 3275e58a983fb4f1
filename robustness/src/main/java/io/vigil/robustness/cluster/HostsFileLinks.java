package io.vigil.robustness.cluster;

import io.vigil.testkit.Link;
import io.vigil.testkit.FaultProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Peer links for members that run on a JVM: one {@link FaultProxy} per directed pair of members,
 * chosen by name resolution, as the server tests' PeerNetwork does. Every member advertises
 * {@code http://m<k>.peer.test:<port>}; each member's JVM resolves those names through a hosts
 * file of its own ({@code -Djdk.net.hosts.file}), where member {@code to}'s name is
 * {@code 127.0.<from+1>.<to+1>} for member {@code from} (by slot), and the proxy of the pair
 * listens there on {@code to}'s advertised port and forwards to {@code to}'s real peer port.
 *
 * <p>Each proxy's connections are dialed by {@code from}: what it writes goes through
 * {@code link(from, to)}, what comes back through {@code link(to, from)}, so a link is one
 * direction of bytes, as with {@link SenderRoutedLinks}.
 *
 * <p>The hosts files name every slot up to {@value #MAX_SLOTS} from the start, so that members
 * added later are resolvable by the running ones without their JVMs re-reading anything. Needs
 * every address of 127.0.0.0/8 to be bindable (Linux).
 */
final class HostsFileLinks implements PeerLinks {
    static final int MAX_SLOTS = 64;

    private final Path dir;
    private final Map<Integer, Member> members = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> advertisedPorts = new ConcurrentHashMap<>();
    /** Keyed by from slot * MAX_SLOTS + to slot. */
    private final Map<Integer, FaultProxy> proxies = new ConcurrentHashMap<>();
    private final Map<Integer, Link> links = new ConcurrentHashMap<>();

    HostsFileLinks(Path dir) {
        this.dir = dir;
    }

    private static String host(int slot) {
        return "m" + (slot + 1) + ".peer.test";
    }

    private static String address(int from, int to) {
        return "127.0." + (from + 1) + "." + (to + 1);
    }

    private static int key(int from, int to) {
        return from * MAX_SLOTS + to;
    }

    private Link linkOf(int from, int to) {
        return links.computeIfAbsent(key(from, to), k -> new Link(host(from) + "->" + host(to)));
    }

    @Override
    public synchronized void add(Member m) {
        int to = m.slot();
        if (to >= MAX_SLOTS) {
            throw new IllegalStateException("more than " + MAX_SLOTS + " members in one run");
        }
        writeHostsFile(to);
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), m.peerPort());
        // into m: one port, the same on every dialer's address (it is part of m's advertised URL);
        // free on 127.0.0.1 and never handed out, and nothing but these proxies binds 127.0.x.y
        int port = Ports.free();
        for (int from : members.keySet()) {
            proxies.put(key(from, to), FaultProxy.start(new InetSocketAddress(address(from, to), port), target,
                    new FaultProxy.Route(linkOf(from, to), linkOf(to, from))));
        }
        advertisedPorts.put(to, port);
        // out of m: into each member already there, on that member's advertised port
        for (Member other : members.values()) {
            int o = other.slot();
            FaultProxy p = FaultProxy.start(new InetSocketAddress(address(to, o), advertisedPorts.get(o)),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), other.peerPort()),
                    new FaultProxy.Route(linkOf(to, o), linkOf(o, to)));
            proxies.put(key(to, o), p);
        }
        members.put(to, m);
    }

    /** Member {@code from}'s hosts file: every slot's name at its address as {@code from} sees it. */
    private void writeHostsFile(int from) {
        StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n");
        for (int to = 0; to < MAX_SLOTS; to++) {
            if (to != from) {
                hosts.append(address(from, to)).append(' ').append(host(to)).append('\n');
            }
        }
        try {
            Files.createDirectories(dir);
            Files.writeString(hostsFile(from), hosts);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path hostsFile(int slot) {
        return dir.resolve("hosts-m" + (slot + 1));
    }

    @Override
    public synchronized void remove(Member m) {
        members.remove(m.slot());
        proxies.entrySet().removeIf(e -> {
            int from = e.getKey() / MAX_SLOTS;
            int to = e.getKey() % MAX_SLOTS;
            if (from == m.slot() || to == m.slot()) {
                e.getValue().close();
                return true;
            }
            return false;
        });
    }

    @Override
    public String advertisedPeerUrl(Member m) {
        return "http://" + host(m.slot()) + ":" + advertisedPorts.get(m.slot());
    }

    @Override
    public List<String> jvmOptions(Member m) {
        return List.of("-Djdk.net.hosts.file=" + hostsFile(m.slot()));
    }

    @Override
    public Link link(Member from, Member to) {
        return linkOf(from.slot(), to.slot());
    }

    @Override
    public List<Link> linksOf(Member m) {
        List<Link> out = new ArrayList<>();
        for (Member o : members.values()) {
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

    @Override
    public synchronized void close() {
        proxies.values().forEach(FaultProxy::close);
        proxies.clear();
    }

    @Override
    public String toString() {
        return links.values().stream().filter(l -> l.isBlocked() || !l.delay().isZero()).toList().toString();
    }
}
