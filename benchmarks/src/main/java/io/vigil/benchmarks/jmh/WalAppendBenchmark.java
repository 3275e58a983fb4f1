package io.vigil.benchmarks.jmh;

import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.HardState;
import io.vigil.consensus.wal.Wal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
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
 * The WAL's group commit: one {@link Wal#save} of {@code batchEntries} entries of
 * {@code entryBytes} bytes plus the hard state, i.e. one write and one fdatasync, into a fresh
 * directory under {@code java.io.tmpdir} (the disk the data directories use in the benchmarks).
 * Segments are cut at the default 64 MiB and released as the log grows, as a member would.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WalAppendBenchmark {
    @Param({"1", "64"})
    int batchEntries;

    @Param({"300"})
    int entryBytes;

    private Path dir;
    private Wal wal;
    private List<byte[]> payloads;
    private long nextIndex = 1;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = Files.createTempDirectory("vigil-wal-bench");
        wal = Wal.open(dir);
        Random rnd = new Random(42);
        payloads = new ArrayList<>();
        for (int i = 0; i < 1024; i++) {
            byte[] p = new byte[entryBytes];
            rnd.nextBytes(p);
            payloads.add(p);
        }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        wal.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** One durable save: batchEntries entries and the hard state, one fdatasync. */
    @Benchmark
    public long saveBatch() {
        List<Entry> batch = new ArrayList<>(batchEntries);
        for (int i = 0; i < batchEntries; i++) {
            batch.add(Entry.normal(1, nextIndex, payloads.get((int) (nextIndex & 1023))));
            nextIndex++;
        }
        wal.save(new HardState(1, 1, nextIndex - 1), batch);
        if ((nextIndex & 0xffff) < batchEntries) {
            wal.releaseBefore(nextIndex - 1);
        }
        return nextIndex;
    }
}
