package io.vigil.benchmarks.jmh;

import com.google.protobuf.ByteString;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.LogEntry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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
 * The write path's hot loop in process: one group commit of {@code batchEntries} puts to random
 * existing keys of a store of {@code keys} keys, in one LMDB transaction, with and without the sync.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED"})
public class RevLogApplyBenchmark {
    @Param({"1", "64"})
    int batchEntries;

    @Param({"false", "true"})
    boolean syncOnCommit;

    @Param({"100000"})
    int keys;

    private BenchStore store;
    private final SplittableRandom rnd = new SplittableRandom(42);

    @Setup(Level.Trial)
    public void open() throws IOException {
        store = new BenchStore(keys, syncOnCommit);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        store.close();
    }

    /** One group commit of batchEntries puts to random existing keys. */
    @Benchmark
    public List<ApplyResult> applyBatch() {
        List<LogEntry> batch = new ArrayList<>(batchEntries);
        for (int i = 0; i < batchEntries; i++) {
            batch.add(store.put(rnd.nextInt(keys)));
        }
        return store.log.apply(batch);
    }
}
