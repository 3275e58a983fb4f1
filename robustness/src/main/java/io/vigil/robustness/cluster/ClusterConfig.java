package io.vigil.robustness.cluster;

import java.time.Duration;

/**
 * The settings both servers take alike, with etcd's flag names.
 *
 * @param size              members at the start (3)
 * @param heartbeatInterval {@code --heartbeat-interval} (etcd's default 100 ms)
 * @param electionTimeout   {@code --election-timeout} (etcd's default 1000 ms)
 * @param snapshotCount     {@code --snapshot-count}: small, so that snapshots (and snapshot
 *                          transfers to members that fall behind) happen within a short run
 */
public record ClusterConfig(int size, Duration heartbeatInterval, Duration electionTimeout, long snapshotCount) {
    public ClusterConfig {
        if (size < 1) {
            throw new IllegalArgumentException("size must be positive, got " + size);
        }
    }

    public static ClusterConfig defaults() {
        return new ClusterConfig(3, Duration.ofMillis(100), Duration.ofMillis(1000), 1000);
    }

    public ClusterConfig withSize(int n) {
        return new ClusterConfig(n, heartbeatInterval, electionTimeout, snapshotCount);
    }

    public ClusterConfig withSnapshotCount(long n) {
        return new ClusterConfig(size, heartbeatInterval, electionTimeout, n);
    }
}
