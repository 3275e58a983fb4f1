package io.vigil.benchmarks.jmh;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.revlog.KeyRanges;
import java.io.IOException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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

    private BenchStore store;
    private final SplittableRandom rnd = new SplittableRandom(42);

    @Setup(Level.Trial)
    public void open() throws IOException {
        store = new BenchStore(keys, false);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        store.close();
    }

    @Benchmark
    public RangeResponse rangeOneKey() {
        return store.log.range(RangeRequest.newBuilder().setKey(BenchStore.key(rnd.nextInt(keys))).build());
    }

    /** The 100 keys sharing a prefix, as a small list of one resource. */
    @Benchmark
    public RangeResponse rangePrefixOf100() {
        ByteString prefix = BenchStore.key(rnd.nextInt(keys / 100) * 100).substring(0, BenchStore.PREFIX_OF_100_BYTES);
        return store.log.range(RangeRequest.newBuilder().setKey(prefix)
                .setRangeEnd(ByteString.copyFrom(KeyRanges.prefixEnd(prefix.toByteArray()))).build());
    }
}
