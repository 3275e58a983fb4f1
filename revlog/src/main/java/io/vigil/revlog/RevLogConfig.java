package io.vigil.revlog;

import java.nio.file.Path;
import java.util.Objects;

/** Configuration of a {@link RevLog}; validated once by {@link #conclude()}. */
public final class RevLogConfig {
    public static final long MAP_SIZE_BYTES_DEFAULT = 8L << 30;
    public static final int MAX_READERS_DEFAULT = 1024;

    private Path dataDir;
    private long mapSizeBytes = MAP_SIZE_BYTES_DEFAULT;
    private int maxReaders = MAX_READERS_DEFAULT;
    private boolean syncOnCommit = true;
    private MonotonicClock clock = MonotonicClock.SYSTEM;

    /** The directory holding the LMDB environment; created when missing. */
    public RevLogConfig dataDir(Path dataDir) {
        this.dataDir = dataDir;
        return this;
    }

    /** Upper bound of the LMDB map (the store's maximum size); the file grows as needed. */
    public RevLogConfig mapSizeBytes(long mapSizeBytes) {
        this.mapSizeBytes = mapSizeBytes;
        return this;
    }

    /** Concurrent read transactions allowed (one per in-flight read request). */
    public RevLogConfig maxReaders(int maxReaders) {
        this.maxReaders = maxReaders;
        return this;
    }

    /**
     * Whether each applied batch is synced to disk before {@link RevLog#apply} returns (default).
     * Off, a commit survives a process crash but not a machine crash: for tests, and for when a
     * write-ahead log in front of the store is the durability point.
     */
    public RevLogConfig syncOnCommit(boolean syncOnCommit) {
        this.syncOnCommit = syncOnCommit;
        return this;
    }

    /** The clock lease expiry is measured on; System.nanoTime unless a test fakes it. */
    public RevLogConfig clock(MonotonicClock clock) {
        this.clock = clock;
        return this;
    }

    public MonotonicClock clock() {
        return clock;
    }

    public boolean syncOnCommit() {
        return syncOnCommit;
    }

    public Path dataDir() {
        return dataDir;
    }

    public long mapSizeBytes() {
        return mapSizeBytes;
    }

    public int maxReaders() {
        return maxReaders;
    }

    public RevLogConfig conclude() {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(clock, "clock");
        if (mapSizeBytes < (1 << 20)) {
            throw new IllegalArgumentException("mapSizeBytes must be at least 1 MiB, got " + mapSizeBytes);
        }
        if (maxReaders < 1) {
            throw new IllegalArgumentException("maxReaders must be positive, got " + maxReaders);
        }
        return this;
    }
}
