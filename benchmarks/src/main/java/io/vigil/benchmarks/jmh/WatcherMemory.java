package io.vigil.benchmarks.jmh;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.watch.WatchHub;
import io.vigil.watch.WatchOut;
import io.vigil.watch.WatchSink;
import io.vigil.watch.WatchStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Heap held per idle watcher in the hub: creates {@code watchers} watchers (half on single keys,
 * half on prefixes, 40-byte keys) over {@code streams} streams, and reports the heap after a full
 * GC, before and after, divided by the watchers. The transport's own per-stream cost (a gRPC call)
 * is not included; it is shared by all the watchers of a stream.
 *
 * <p>Run: {@code java --add-opens java.base/java.nio=ALL-UNNAMED --add-opens
 * java.base/sun.nio.ch=ALL-UNNAMED -cp 'benchmarks/target/vigil-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*'
 * io.vigil.benchmarks.jmh.WatcherMemory 100000 100}
 */
public final class WatcherMemory {
    private WatcherMemory() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        int watchers = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int streams = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        try (BenchStore store = new BenchStore(1, false)) {
            WatchHub hub = new WatchHub(store.log, new WatchHub.Config(),
                    rev -> ResponseHeader.newBuilder().setRevision(rev).build(), () -> { }, new SimpleMeterRegistry());
            List<WatchStream> open = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                open.add(hub.openStream(new DiscardingSink()));
            }
            List<WatchCreateRequest> requests = new ArrayList<>();
            for (int w = 0; w < watchers; w++) {
                String key = String.format("/registry/pods/namespace-%04d/pod-%012d", w % 1000, w);
                WatchCreateRequest.Builder c = WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8(key));
                if (w % 2 == 1) {
                    c.setRangeEnd(ByteString.copyFromUtf8(key + "0"));
                }
                requests.add(c.build());
            }
            long before = usedHeapAfterGc();
            for (int w = 0; w < watchers; w++) {
                open.get(w % streams).create(requests.get(w));
            }
            requests.clear();
            long after = usedHeapAfterGc();
            System.out.printf("%d watchers on %d streams: %.0f bytes of heap per watcher%n",
                    watchers, streams, (after - before) / (double) watchers);
            open.forEach(WatchStream::close);
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static final class DiscardingSink implements WatchSink {
        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void send(WatchOut response) {
        }

        @Override
        public void requestNext() {
        }
    }
}
