package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.WatchCancelRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client port's limits on real server processes, each refusal seen as the client sees it,
 * while a well-behaved client goes on being served: etcd's --max-concurrent-streams and
 * --grpc-keepalive-* (checked frame by frame on a raw HTTP/2 connection), and Vigil's watcher
 * limits and watch buffer budget.
 */
class ClientLimitsTest {
    @TempDir
    Path tmp;

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private static ManagedChannel channel(VigilProcess vigil) {
        return NettyChannelBuilder.forAddress(vigil.host(), vigil.port()).usePlaintext().build();
    }

    /** A put and a get from a client of its own: the server still serves everyone else. */
    private static void wellBehavedClientIsServed(VigilProcess vigil) {
        ManagedChannel c = channel(vigil);
        try {
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(c);
            kv.put(PutRequest.newBuilder().setKey(bytes("probe")).setValue(bytes("ok")).build());
            assertEquals(bytes("ok"), kv.range(RangeRequest.newBuilder().setKey(bytes("probe")).build()).getKvs(0).getValue());
        } finally {
            c.shutdownNow();
        }
    }

    @Test
    void maxConcurrentStreamsIsAdvertisedAndFurtherStreamsAreRefused() throws Exception {
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("data"), "--max-concurrent-streams=2");
             RawHttp2 raw = RawHttp2.connect(vigil.host(), vigil.port())) {
            RawHttp2.Frame settings = raw.readUntil(f -> f.type() == RawHttp2.SETTINGS && (f.flags() & RawHttp2.FLAG_ACK) == 0);
            assertNotNull(settings);
            assertEquals(2, settings.setting(RawHttp2.SETTINGS_MAX_CONCURRENT_STREAMS));
            // two watch streams stay open; a third stream on the same connection is refused
            raw.grpcCall(1, "/etcdserverpb.Watch/Watch");
            raw.grpcCall(3, "/etcdserverpb.Watch/Watch");
            raw.grpcCall(5, "/etcdserverpb.Watch/Watch");
            RawHttp2.Frame reset = raw.readUntil(f -> f.type() == RawHttp2.RST_STREAM);
            assertNotNull(reset, "the server closed the connection instead of refusing the stream");
            assertEquals(5, reset.stream());
            assertEquals(RawHttp2.ERROR_REFUSED_STREAM, reset.errorCode());
            wellBehavedClientIsServed(vigil);
        }
    }

    @Test
    void clientsPingingMoreOftenThanTheMinimumTimeGetGoawayTooManyPings() throws Exception {
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("data"));
             RawHttp2 raw = RawHttp2.connect(vigil.host(), vigil.port())) {
            // etcd's default --grpc-keepalive-min-time is 5s: pings back to back are abuse
            for (int i = 0; i < 6; i++) {
                raw.ping(i);
            }
            RawHttp2.Frame goaway = raw.readUntil(f -> f.type() == RawHttp2.GOAWAY);
            assertNotNull(goaway, "the connection ended without GOAWAY");
            assertEquals(RawHttp2.ERROR_ENHANCE_YOUR_CALM, goaway.errorCode());
            assertEquals("too_many_pings", goaway.debugData());
            wellBehavedClientIsServed(vigil);
        }
    }

    @Test
    void theServerPingsIdleConnectionsAndClosesOnesThatDoNotAnswer() throws Exception {
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("data"),
                "--grpc-keepalive-interval=200ms", "--grpc-keepalive-timeout=300ms");
             RawHttp2 raw = RawHttp2.connect(vigil.host(), vigil.port())) {
            RawHttp2.Frame ping = raw.readUntil(f -> f.type() == RawHttp2.PING && (f.flags() & RawHttp2.FLAG_ACK) == 0);
            assertNotNull(ping, "the server closed the connection before it pinged");
            // never answered: the server gives up on the connection
            assertTrue(raw.readToEnd(), "the server kept a connection that does not answer its pings");
            // grpc-java answers pings: a real client stays connected across several of them
            try (Client client = Client.builder().endpoints("http://" + vigil.endpoint()).build()) {
                ByteSequence k = ByteSequence.from("k", StandardCharsets.UTF_8);
                for (int i = 0; i < 5; i++) {
                    client.getKVClient().put(k, ByteSequence.from("v" + i, StandardCharsets.UTF_8)).get();
                }
                assertEquals("v4", client.getKVClient().get(k).get().getKvs().get(0).getValue().toString(StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void watchCreatesBeyondTheWatcherLimitsAreRefusedAndTheRestGoOn() throws Exception {
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("data"),
                "--max-watchers-per-stream=3", "--max-watchers-per-connection=5")) {
            ManagedChannel a = channel(vigil);
            ManagedChannel b = channel(vigil);
            try {
                RawWatchStream a1 = RawWatchStream.open(a, false);
                for (int id = 1; id <= 4; id++) {
                    a1.create(WatchCreateRequest.newBuilder().setKey(bytes("w")).setWatchId(id));
                }
                WatchResponse refused = a1.awaitCreated(3);
                assertTrue(refused.getCanceled(), refused.toString());
                assertEquals("etcdserver: too many watchers", refused.getCancelReason());
                assertEquals(3, a1.received.stream().filter(r -> r.getCreated() && !r.getCanceled()).count());

                // the connection's second stream gets the two watchers left of the connection's five
                RawWatchStream a2 = RawWatchStream.open(a, false);
                for (int id = 1; id <= 3; id++) {
                    a2.create(WatchCreateRequest.newBuilder().setKey(bytes("w")).setWatchId(id));
                }
                assertEquals("etcdserver: too many watchers", a2.awaitCreated(2).getCancelReason());
                assertEquals(2, a2.received.stream().filter(r -> r.getCreated() && !r.getCanceled()).count());

                // another connection has its own count
                RawWatchStream b1 = RawWatchStream.open(b, false);
                b1.create(WatchCreateRequest.newBuilder().setKey(bytes("w")).setWatchId(1));
                assertFalse(b1.awaitCreated(0).getCanceled());

                // a cancel frees a place on the connection
                a1.send(WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(1)).build());
                await().atMost(Duration.ofSeconds(30)).until(() -> a1.received.stream().anyMatch(WatchResponse::getCanceled
                        ) && a1.received.stream().anyMatch(r -> r.getCanceled() && r.getWatchId() == 1));
                a2.create(WatchCreateRequest.newBuilder().setKey(bytes("w")).setWatchId(3));
                assertFalse(a2.awaitCreated(3).getCanceled());

                // the watchers that were accepted go on
                long rev = KVGrpc.newBlockingStub(b).put(PutRequest.newBuilder().setKey(bytes("w")).setValue(bytes("x")).build())
                        .getHeader().getRevision();
                for (long id : List.of(2L, 3L)) {
                    a1.awaitEvents(id, 1);
                    assertEquals(rev, a1.events(id).get(0).getKv().getModRevision());
                }
                b1.awaitEvents(1, 1);
                a2.awaitEvents(3, 1);
            } finally {
                a.shutdownNow();
                b.shutdownNow();
            }
            // jetcd opens a stream per watcher: the connection's limit refuses the sixth, which jetcd
            // reports as it reports any create etcd refuses (watch_id -1), without the reason
            try (Client client = Client.builder().endpoints("http://" + vigil.endpoint()).build()) {
                ByteSequence key = ByteSequence.from("j", StandardCharsets.UTF_8);
                List<Watch.Watcher> watchers = new ArrayList<>();
                List<CompletableFuture<Throwable>> errors = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    CompletableFuture<Throwable> error = new CompletableFuture<>();
                    errors.add(error);
                    watchers.add(client.getWatchClient().watch(key, Watch.listener(r -> { }, error::complete)));
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> errors.stream().anyMatch(CompletableFuture::isDone));
                Throwable t = errors.stream().filter(CompletableFuture::isDone).findFirst().orElseThrow().join();
                assertTrue(String.valueOf(t.getMessage()).contains("failed to create watch"), t.toString());
                assertEquals(1, errors.stream().filter(CompletableFuture::isDone).count());
                watchers.forEach(Watch.Watcher::close);
            }
        }
    }

    @Test
    void watchersThatNeverReadHoldNoMoreThanTheBufferBudgetAndOthersAreServed() throws Exception {
        long budget = 2L << 20;
        int valueBytes = 128 * 1024;
        int slowChannels = 4;
        int streamsPerChannel = 4;
        int watchersPerStream = 4;
        int writes = 40;
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("data"), "--max-watch-buffered-bytes=" + budget)) {
            List<ManagedChannel> channels = new ArrayList<>();
            ManagedChannel good = channel(vigil);
            channels.add(good);
            try {
                WatchCreateRequest.Builder prefix = WatchCreateRequest.newBuilder().setKey(bytes("big/")).setRangeEnd(bytes("big0"));
                // clients with manual flow control that never ask for a single response
                for (int c = 0; c < slowChannels; c++) {
                    ManagedChannel ch = channel(vigil);
                    channels.add(ch);
                    for (int s = 0; s < streamsPerChannel; s++) {
                        RawWatchStream slow = RawWatchStream.open(ch, true);
                        for (int w = 1; w <= watchersPerStream; w++) {
                            slow.create(prefix.clone().setWatchId(w));
                        }
                    }
                }
                RawWatchStream fast = RawWatchStream.open(good, false);
                fast.create(prefix.clone().setWatchId(1));
                fast.awaitCreated(0);
                int watchers = slowChannels * streamsPerChannel * watchersPerStream + 1;
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> MetricsScrape.of(vigil.endpoint()).value("vigil_watch_watchers") == watchers);

                KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(good);
                List<Long> revisions = new ArrayList<>();
                for (int i = 0; i < writes; i++) {
                    byte[] value = new byte[valueBytes];
                    value[0] = (byte) i;
                    revisions.add(kv.put(PutRequest.newBuilder().setKey(bytes("big/" + (i % 4)))
                            .setValue(ByteString.copyFrom(value)).build()).getHeader().getRevision());
                }
                // the reader that reads gets every revision, in order, while the others hold what they hold
                fast.awaitEvents(1, writes);
                assertEquals(revisions, fast.events(1).stream().map(e -> e.getKv().getModRevision()).toList());
                wellBehavedClientIsServed(vigil);

                MetricsScrape m = MetricsScrape.of(vigil.endpoint());
                double peak = m.value("vigil_watch_buffered_bytes_peak");
                int slowStreams = slowChannels * streamsPerChannel;
                // over the budget, only a stream whose queue is empty takes one response: a
                // history chunk (1 MiB of records and the revision that crosses it) at most
                long response = (1L << 20) + valueBytes + 4096;
                long bound = budget + (slowStreams + 2) * response;
                long withoutBudget = slowStreams * (4L << 20);
                assertTrue(bound < withoutBudget, "the test would not tell a budget from none");
                assertTrue(peak <= bound, "buffered " + peak + " bytes at the peak, beyond " + bound);
                assertTrue(m.value("vigil_watch_slow_moves_total") > 0, "no watcher fell back to catch-up");
            } finally {
                for (int i = 1; i < channels.size(); i++) {
                    channels.get(i).shutdownNow();
                }
            }
            // what the slow streams held is let go with them
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> MetricsScrape.of(vigil.endpoint()).value("vigil_watch_buffered_bytes") == 0);
            good.shutdownNow();
        }
    }
}
