package io.vigil.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub's threads as the apply thread uses them: while the fan-out is light (no watcher, or up to
 * {@link WatchHubThreads#INLINE_MAX_WATCHERS}) a batch is published before
 * {@link WatchHubThreads#published} returns; beyond that it goes through the dispatcher; either
 * way a watcher sees every revision once, in order.
 */
class WatchHubThreadsTest {
    /**
     * etcd's default progress-notify interval, only because the hub needs one: a progress
     * notification carries no events, so nothing this test checks depends on when one comes.
     */
    private static final Duration ETCD_PROGRESS_NOTIFY_INTERVAL = Duration.ofMinutes(10);

    @TempDir
    Path dir;

    private long nextIndex = 1;

    /** A sink that is always ready and keeps what it was sent; sends come from the hub's threads. */
    private static final class Received implements WatchSink {
        private final List<Event> events = new ArrayList<>();

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public synchronized void send(WatchOut response) {
            events.addAll(response.toResponse().getEventsList());
            notifyAll();
        }

        @Override
        public void requestNext() {
        }

        synchronized void awaitEvents(int n) throws InterruptedException {
            while (events.size() < n) {
                wait();
            }
        }

        synchronized List<Long> revisions() {
            return events.stream().map(e -> e.getKv().getModRevision()).toList();
        }
    }

    private List<ApplyResult> put(RevLog log, String key) {
        InternalRequest put = InternalRequest.newBuilder().setPut(PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v"))).build();
        return log.apply(List.of(new LogEntry(nextIndex++, put)));
    }

    private WatchHubThreads threads(RevLog log) {
        return new WatchHubThreads(log, new WatchHub.Config(), rev -> ResponseHeader.newBuilder().setRevision(rev).build(),
                new SimpleMeterRegistry(), ETCD_PROGRESS_NOTIFY_INTERVAL);
    }

    private static RevLog openLog(Path dir) {
        return RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(64L << 20).syncOnCommit(false));
    }

    /** A watcher on every key under "k" from revision 2, on a stream of its own. */
    private static WatchStream watchK(WatchHub hub, Received sink) {
        WatchStream stream = hub.openStream(sink);
        stream.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
                .setRangeEnd(ByteString.copyFromUtf8("l")).setStartRevision(2).build());
        return stream;
    }

    private static void assertEveryRevisionFrom2(RevLog log, Received sink) throws InterruptedException {
        List<Long> expected = new ArrayList<>();
        for (long rev = 2; rev <= log.currentRevision(); rev++) {
            expected.add(rev);
        }
        sink.awaitEvents(expected.size());
        assertEquals(expected, sink.revisions(), "every revision once, in order");
    }

    @Test
    void whileTheFanOutIsLightTheApplyThreadPublishesAndAWatcherOpenedLaterMissesNothing() throws Exception {
        try (RevLog log = openLog(dir); WatchHubThreads threads = threads(log)) {
            WatchHub hub = threads.hub();
            for (int i = 0; i < 5; i++) {
                threads.published(put(log, "k" + i));
                assertEquals(log.currentRevision(), hub.lastPublished(), "published before published() returned");
            }
            Received sink = new Received();
            WatchStream stream = watchK(hub, sink);
            for (int i = 5; i < 50; i++) {
                threads.published(put(log, "k" + i));
                assertEquals(log.currentRevision(), hub.lastPublished(),
                        "one watcher is a light fan-out: published before published() returned");
            }
            assertEveryRevisionFrom2(log, sink);
            stream.close();
        }
    }

    @Test
    void beyondTheInlineLimitTheDispatcherPublishesAndAWatcherMissesNothing() throws Exception {
        try (RevLog log = openLog(dir); WatchHubThreads threads = threads(log)) {
            WatchHub hub = threads.hub();
            for (int i = 0; i < 5; i++) {
                threads.published(put(log, "k" + i));
            }
            WatchStream others = hub.openStream(new Received());
            for (int i = 0; i < WatchHubThreads.INLINE_MAX_WATCHERS; i++) {
                others.create(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("other")).build());
            }
            Received sink = new Received();
            WatchStream stream = watchK(hub, sink);
            assertFalse(hub.fansOutLightly(WatchHubThreads.INLINE_MAX_WATCHERS), "one watcher past the limit");
            for (int i = 5; i < 50; i++) {
                threads.published(put(log, "k" + i));
            }
            assertEveryRevisionFrom2(log, sink);
            stream.close();
            others.close();
        }
    }
}
