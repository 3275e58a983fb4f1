package io.vigil.benchmarks.jmh;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.KeyRanges;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The read path in process: a range at the head over a store of {@code keys} keys, of one key or of
 * the 100 keys under one prefix (a small list of one resource).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED"})
public class RevLogRangeBenchmark {
    @Param({"100000"})
    int keys;

    private Path dir;
    private RevLog log;
    private long index;
    private final SplittableRandom rnd = new SplittableRandom(42);
    private final ByteString value = ByteString.copyFrom(new byte[256]);

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = Files.createTempDirectory("revlog-bench");
        log = RevLog.open(new RevLogConfig().dataDir(dir).syncOnCommit(false));
        for (int i = 0; i < keys; i += 1000) {
            List<LogEntry> batch = new ArrayList<>();
            for (int k = i; k < Math.min(keys, i + 1000); k++) {
                batch.add(put(k));
            }
            log.apply(batch);
        }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        log.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public RangeResponse rangeOneKey() {
        return log.range(RangeRequest.newBuilder().setKey(key(rnd.nextInt(keys))).build());
    }

    /** The 100 keys sharing a prefix, as a small list of one resource. */
    @Benchmark
    public RangeResponse rangePrefixOf100() {
        ByteString prefix = key(rnd.nextInt(keys / 100) * 100).substring(0, 16);
        return log.range(RangeRequest.newBuilder().setKey(prefix)
                .setRangeEnd(ByteString.copyFrom(KeyRanges.prefixEnd(prefix.toByteArray()))).build());
    }

    private LogEntry put(int k) {
        return new LogEntry(++index, InternalRequest.newBuilder()
                .setPut(PutRequest.newBuilder().setKey(key(k)).setValue(value)).build());
    }

    /** "bench/key/" + 8 digits: keys k..k+99 with k a multiple of 100 share a 16-byte prefix. */
    private static ByteString key(int k) {
        return ByteString.copyFromUtf8(String.format("bench/key/%08d", k));
    }
}
