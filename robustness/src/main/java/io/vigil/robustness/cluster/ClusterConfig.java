package io.vigil.robustness.cluster;

import java.time.Duration;
import java.util.List;

/**
 * The settings both servers take alike, with etcd's flag names.
 *
 * @param size              members at the start (3)
 * @param heartbeatInterval {@code --heartbeat-interval} (etcd's default 100 ms)
 * @param electionTimeout   {@code --election-timeout} (etcd's default 1000 ms)
 * @param snapshotCount     {@code --snapshot-count}: small, so that snapshots (and snapshot
 *                          transfers to members that fall behind) happen within a short run
 * @param serverFlags       more flags for every member's command line (e.g. Vigil's
 *                          {@code --experimental-test-fault}), after the common ones
 */
public record ClusterConfig(int size, Duration heartbeatInterval, Duration electionTimeout, long snapshotCount,
                            List<String> serverFlags) {
    public ClusterConfig {
        serverFlags = List.copyOf(serverFlags);
        if (size < 1) {
            throw new IllegalArgumentException("size must be positive, got " + size);
        }
    }

    public static ClusterConfig defaults() {
        return new ClusterConfig(3, Duration.ofMillis(100), Duration.ofMillis(1000), 1000, List.of());
    }

    public ClusterConfig withSize(int n) {
        return new ClusterConfig(n, heartbeatInterval, electionTimeout, snapshotCount, serverFlags);
    }

    public ClusterConfig withSnapshotCount(long n) {
        return new ClusterConfig(size, heartbeatInterval, electionTimeout, n, serverFlags);
    }

    public ClusterConfig withServerFlags(List<String> flags) {
        return new ClusterConfig(size, heartbeatInterval, electionTimeout, snapshotCount, flags);
    }
}
