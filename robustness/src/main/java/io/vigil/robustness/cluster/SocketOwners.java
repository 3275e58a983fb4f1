package io.vigil.robustness.cluster;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

/**
 * Which process dialed a TCP connection, from Linux's /proc: the dialer's socket is the one whose
 * local port is the accepted connection's remote port and whose remote port is the listener's
 * ({@code /proc/net/tcp}, {@code tcp6}), and its owner is the process with that socket's inode
 * among its file descriptors. Used where a connection does not say who sent it.
 */
final class SocketOwners {
    private SocketOwners() {
    }

    /**
     * The pid among {@code pids} owning the socket with local port {@code dialerPort} connected to
     * port {@code dialedPort}; -1 when none does (or /proc is not there).
     */
    static long owner(int dialerPort, int dialedPort, Collection<Long> pids) {
        String inode = inode(dialerPort, dialedPort);
        if (inode == null) {
            return -1;
        }
        String link = "socket:[" + inode + "]";
        for (long pid : pids) {
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
                for (Path fd : fds) {
                    try {
                        if (Files.readSymbolicLink(fd).toString().equals(link)) {
                            return pid;
                        }
                    } catch (IOException closedMeanwhile) {
                        // the descriptor went away while we looked
                    }
                }
            } catch (IOException gone) {
                // the process went away
            }
        }
        return -1;
    }

    private static String inode(int localPort, int remotePort) {
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && port(f[1]) == localPort && port(f[2]) == remotePort) {
                    return f[9];
                }
            }
        }
        return null;
    }

    /** The port of an address as /proc/net/tcp writes it: hex address, colon, hex port. */
    private static int port(String address) {
        int colon = address.lastIndexOf(':');
        return colon < 0 ? -1 : Integer.parseInt(address.substring(colon + 1), 16);
    }
}
