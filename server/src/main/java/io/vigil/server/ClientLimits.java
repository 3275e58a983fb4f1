package io.vigil.server;

import java.time.Duration;

/**
 * What one client may hold of the client port, so that abuse by one is refused with an error and
 * everyone else goes on being served. etcd's flags where etcd has one
 * ({@code --max-concurrent-streams}, {@code --grpc-keepalive-*}, with etcd's defaults); the watch
 * limits are Vigil's own (etcd has none), with generous defaults.
 *
 * @param maxConcurrentStreams HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: open calls per connection
 * @param keepaliveMinTime clients pinging more often than this get GOAWAY (ENHANCE_YOUR_CALM)
 * @param keepaliveInterval how long a connection may be idle before the server pings it
 * @param keepaliveTimeout how long the server waits for a ping's answer before closing
 * @param maxWatchersPerStream watch creates beyond this on one stream are refused
 * @param maxWatchersPerConnection watch creates beyond this on the streams of one connection are refused
 * @param maxWatchBufferedBytes responses queued for all watch streams together, beyond which slow
 *        streams' watchers fall back to catching up from the log
 */
public record ClientLimits(long maxConcurrentStreams, Duration keepaliveMinTime, Duration keepaliveInterval,
                           Duration keepaliveTimeout, int maxWatchersPerStream, int maxWatchersPerConnection,
                           long maxWatchBufferedBytes) {
    /** etcd's default --max-concurrent-streams, math.MaxUint32: as good as none. */
    public static final long MAX_CONCURRENT_STREAMS_DEFAULT = 0xffff_ffffL;
    public static final ClientLimits DEFAULT = new ClientLimits(MAX_CONCURRENT_STREAMS_DEFAULT,
            Duration.ofSeconds(5), Duration.ofHours(2), Duration.ofSeconds(20),
            100_000, 1_000_000, 256L << 20);

    public ClientLimits {
        if (maxConcurrentStreams <= 0 || maxWatchersPerStream <= 0 || maxWatchersPerConnection <= 0
                || maxWatchBufferedBytes <= 0) {
            throw new IllegalArgumentException("must be positive");
        }
        if (keepaliveMinTime.isNegative() || keepaliveInterval.isNegative() || keepaliveInterval.isZero()
                || keepaliveTimeout.isNegative() || keepaliveTimeout.isZero()) {
            throw new IllegalArgumentException("must be positive");
        }
    }

    public ClientLimits withMaxConcurrentStreams(long n) {
        return new ClientLimits(n, keepaliveMinTime, keepaliveInterval, keepaliveTimeout, maxWatchersPerStream,
                maxWatchersPerConnection, maxWatchBufferedBytes);
    }

    public ClientLimits withKeepaliveMinTime(Duration d) {
        return new ClientLimits(maxConcurrentStreams, d, keepaliveInterval, keepaliveTimeout, maxWatchersPerStream,
                maxWatchersPerConnection, maxWatchBufferedBytes);
    }

    public ClientLimits withKeepaliveInterval(Duration d) {
        return new ClientLimits(maxConcurrentStreams, keepaliveMinTime, d, keepaliveTimeout, maxWatchersPerStream,
                maxWatchersPerConnection, maxWatchBufferedBytes);
    }

    public ClientLimits withKeepaliveTimeout(Duration d) {
        return new ClientLimits(maxConcurrentStreams, keepaliveMinTime, keepaliveInterval, d, maxWatchersPerStream,
                maxWatchersPerConnection, maxWatchBufferedBytes);
    }

    public ClientLimits withMaxWatchersPerStream(int n) {
        return new ClientLimits(maxConcurrentStreams, keepaliveMinTime, keepaliveInterval, keepaliveTimeout, n,
                maxWatchersPerConnection, maxWatchBufferedBytes);
    }

    public ClientLimits withMaxWatchersPerConnection(int n) {
        return new ClientLimits(maxConcurrentStreams, keepaliveMinTime, keepaliveInterval, keepaliveTimeout,
                maxWatchersPerStream, n, maxWatchBufferedBytes);
    }

    public ClientLimits withMaxWatchBufferedBytes(long n) {
        return new ClientLimits(maxConcurrentStreams, keepaliveMinTime, keepaliveInterval, keepaliveTimeout,
                maxWatchersPerStream, maxWatchersPerConnection, n);
    }

    /** For grpc-netty, whose limit is an int: etcd's default stands for no limit. */
    int maxConcurrentCallsPerConnection() {
        return (int) Math.min(Integer.MAX_VALUE, maxConcurrentStreams);
    }
}
