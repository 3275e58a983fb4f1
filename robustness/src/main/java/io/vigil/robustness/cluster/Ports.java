package io.vigil.robustness.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * Loopback ports for the servers and proxies of a run. A port is handed out at most once per JVM:
 * the kernel may offer a port again as soon as its probe socket closed, and a run picks ports up
 * front (a member's flags name them before it binds), restarts members on the same ones and must
 * never see a new member answer on an old member's port.
 */
public final class Ports {
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private Ports() {
    }

    /** A port free on 127.0.0.1 now and never handed out before in this JVM. */
    public static synchronized int free() {
        while (true) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
