package io.vigil.benchmarks.jmh;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.revlog.ApplyResult;
import io.vigil.watch.WatchHub;
import io.vigil.watch.WatchOut;
import io.vigil.watch.WatchSink;
import io.vigil.watch.WatchStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
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
 * The watch hub's live path in process: one revision with one put published to {@code watchers}
 * watchers spread over {@code streams} streams and {@code keys} keys (so each revision reaches
 * watchers/keys of them), through matching, encoding once, enqueueing and draining into sinks
 * that write the bytes to nowhere. Score: time per published revision.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED"})
public class WatchFanoutBenchmark {
    @Param({"10000"})
    int watchers;
    @Param({"100"})
    int streams;
    @Param({"10", "1000"})
    int keys;
    /** Whether half the watchers watch a prefix (the range tree) rather than their key. */
    @Param({"false", "true"})
    boolean prefixes;

    private BenchStore store;
    private WatchHub hub;
    private long revision;
    private int next;
    private final List<WatchStream> open = new ArrayList<>();

    @Setup(Level.Trial)
    public void open() throws IOException {
        store = new BenchStore(1, false);
        hub = new WatchHub(store.log, new WatchHub.Config(), rev -> ResponseHeader.newBuilder().setRevision(rev).build(),
                () -> { }, new SimpleMeterRegistry());
        revision = store.log.currentRevision();
        for (int s = 0; s < streams; s++) {
            open.add(hub.openStream(new NullSink()));
        }
        for (int w = 0; w < watchers; w++) {
            WatchCreateRequest.Builder c = WatchCreateRequest.newBuilder().setKey(key(w % keys));
            if (prefixes && w % 2 == 1) {
                c.setKey(ByteString.copyFromUtf8("w/")).setRangeEnd(ByteString.copyFromUtf8("w0"));
            }
            open.get(w % streams).create(c.build());
        }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        open.forEach(WatchStream::close);
        store.close();
    }

    private static ByteString key(int i) {
        return ByteString.copyFromUtf8(String.format("w/%06d", i));
    }

    @Benchmark
    public void publishOneRevision() {
        revision++;
        KeyValue kv = KeyValue.newBuilder().setKey(key(next++ % keys)).setValue(ByteString.copyFromUtf8("v".repeat(256)))
                .setModRevision(revision).setCreateRevision(1).setVersion(revision).build();
        hub.publish(List.of(new ApplyResult(revision, revision, null, null,
                List.of(Event.newBuilder().setType(Event.EventType.PUT).setKv(kv).build()))));
    }

    /** Always ready; writes every response to a stream that discards it, as a transport copies it. */
    private static final class NullSink implements WatchSink {
        private static final OutputStream NOWHERE = OutputStream.nullOutputStream();

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void send(WatchOut response) {
            try {
                response.writeTo(NOWHERE);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void requestNext() {
        }
    }
}
