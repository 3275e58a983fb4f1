package io.vigil.benchmarks.jmh;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A revision log in a temporary directory, filled with {@code keys} keys of 256-byte values, for
 * the in-process micro-benchmarks. Keys are "bench/key/" + 8 digits, so keys k..k+99 with k a
 * multiple of 100 share a {@link #PREFIX_OF_100_BYTES}-byte prefix.
 */
final class BenchStore implements AutoCloseable {
    static final int PREFIX_OF_100_BYTES = 16;

    final RevLog log;
    private final Path dir;
    private final ByteString value = ByteString.copyFrom(new byte[256]);
    private long index;

    BenchStore(int keys, boolean syncOnCommit) throws IOException {
        dir = Files.createTempDirectory("revlog-bench");
        log = RevLog.open(new RevLogConfig().dataDir(dir).syncOnCommit(syncOnCommit));
        for (int i = 0; i < keys; i += 1000) {
            List<LogEntry> batch = new ArrayList<>();
            for (int k = i; k < Math.min(keys, i + 1000); k++) {
                batch.add(put(k));
            }
            log.apply(batch);
        }
    }

    /** The next log entry: a put of key k. */
    LogEntry put(int k) {
        return new LogEntry(++index, InternalRequest.newBuilder()
                .setPut(PutRequest.newBuilder().setKey(key(k)).setValue(value)).build());
    }

    static ByteString key(int k) {
        return ByteString.copyFromUtf8(String.format("bench/key/%08d", k));
    }

    @Override
    public void close() throws IOException {
        log.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
