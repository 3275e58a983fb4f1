package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.WatchCancelRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchProgressRequest;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Watch service of a real server process, driven through grpc-java stubs of etcd's API and
 * through jetcd: many watchers on one stream and many streams on one connection, ids, cancel,
 * errors, filters, prev_kv, compaction, fragments, progress requests and notices, and a reader
 * that stops reading.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WatchServiceTest {
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    @TempDir
    static Path tmp;
    private VigilProcess vigil;
    private ManagedChannel channel;
    private KVGrpc.KVBlockingStub kv;

    @BeforeAll
    void start() {
        vigil = VigilProcess.start(tmp.resolve("data"), "--max-request-bytes=" + MAX_REQUEST_BYTES,
                "--experimental-watch-progress-notify-interval=200ms", "--listen-metrics-urls=http://127.0.0.1:0");
        channel = channel();
        kv = KVGrpc.newBlockingStub(channel);
    }

    @AfterAll
    void stop() throws Exception {
        channel.shutdownNow();
        vigil.close();
    }

    private ManagedChannel channel() {
        return NettyChannelBuilder.forAddress(vigil.host(), vigil.port()).usePlaintext().build();
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private long put(String key, String value) {
        return kv.put(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build()).getHeader().getRevision();
    }

    @Test
    void thousandsOfWatchersOnOneStreamAndManyStreamsOnOneConnection() {
        String prefix = "many/";
        List<RawWatchStream> streams = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            streams.add(RawWatchStream.open(channel, false));
        }
        int perStream = 1000;
        for (int s = 0; s < streams.size(); s++) {
            RawWatchStream stream = streams.get(s);
            for (int i = 0; i < perStream; i++) {
                WatchCreateRequest.Builder c = WatchCreateRequest.newBuilder().setKey(bytes(prefix + (i % 50)));
                // half of the ids chosen by the client, half by the server
                if (i % 2 == 0) {
                    c.setWatchId(1_000_000L + i);
                }
                stream.create(c);
            }
            stream.awaitCreated(perStream - 1);
        }
        for (RawWatchStream stream : streams) {
            Set<Long> ids = new HashSet<>();
            for (WatchResponse r : stream.received) {
                assertTrue(r.getCreated() && !r.getCanceled(), r.toString());
                assertTrue(ids.add(r.getWatchId()), "duplicate id " + r.getWatchId());
            }
        }
        // cancel the first 100 watchers of stream 0
        RawWatchStream first = streams.get(0);
        List<Long> firstIds = first.received.stream().map(WatchResponse::getWatchId).toList();
        for (int i = 0; i < 100; i++) {
            first.send(WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(firstIds.get(i))).build());
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> first.received.stream().filter(WatchResponse::getCanceled).count() == 100);
        for (int k = 0; k < 50; k++) {
            put(prefix + k, "v" + k);
        }
        // every live watcher gets one event: 4000 - 100
        long expected = streams.size() * perStream - 100;
        await().atMost(Duration.ofSeconds(60)).until(() -> streams.stream()
                .mapToLong(st -> st.received.stream().mapToLong(WatchResponse::getEventsCount).sum()).sum() >= expected);
        for (int s = 0; s < streams.size(); s++) {
            RawWatchStream stream = streams.get(s);
            List<Long> ids = stream.received.stream().filter(WatchResponse::getCreated).map(WatchResponse::getWatchId).toList();
            for (int i = 0; i < perStream; i++) {
                long id = ids.get(i);
                if (s == 0 && i < 100) {
                    assertEquals(List.of(), stream.events(id), "a cancelled watcher got events");
                    continue;
                }
                List<Event> got = stream.events(id);
                assertEquals(1, got.size());
                assertEquals(bytes(prefix + (i % 50)), got.get(0).getKv().getKey());
            }
        }
        streams.forEach(RawWatchStream::close);
    }

    @Test
    void refusedCreatesSayWhy() {
        RawWatchStream s = RawWatchStream.open(channel, false);
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("refused/b")).setRangeEnd(bytes("refused/a")));
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("refused/x")).setWatchId(7));
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("refused/y")).setWatchId(7));
        WatchResponse empty = s.awaitCreated(0);
        assertTrue(empty.getCanceled());
        assertEquals(-1, empty.getWatchId());
        assertEquals("mvcc: watcher range is empty", empty.getCancelReason());
        assertEquals(7, s.awaitCreated(1).getWatchId());
        WatchResponse duplicate = s.awaitCreated(2);
        assertTrue(duplicate.getCanceled());
        assertEquals("mvcc: duplicate watch ID provided on the WatchStream", duplicate.getCancelReason());
        s.close();
    }

    @Test
    void filtersAndPrevKvIncludingDeletes() {
        put("filters/k", "one");
        RawWatchStream s = RawWatchStream.open(channel, false);
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("filters/k")).setPrevKv(true).setWatchId(1));
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("filters/k")).setWatchId(2)
                .addFilters(WatchCreateRequest.FilterType.NOPUT));
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("filters/k")).setWatchId(3)
                .addFilters(WatchCreateRequest.FilterType.NODELETE));
        s.awaitCreated(2);
        put("filters/k", "two");
        kv.deleteRange(DeleteRangeRequest.newBuilder().setKey(bytes("filters/k")).build());
        put("filters/k", "three");
        s.awaitEvents(1, 3);
        s.awaitEvents(2, 1);
        s.awaitEvents(3, 2);
        List<Event> all = s.events(1);
        assertEquals("one", all.get(0).getPrevKv().getValue().toStringUtf8());
        assertEquals(Event.EventType.DELETE, all.get(1).getType());
        assertEquals("two", all.get(1).getPrevKv().getValue().toStringUtf8(), "a delete carries the deleted value");
        assertTrue(!all.get(2).hasPrevKv(), "a create has no prev_kv");
        assertEquals(List.of(Event.EventType.DELETE), s.events(2).stream().map(Event::getType).toList());
        assertEquals(List.of(Event.EventType.PUT, Event.EventType.PUT), s.events(3).stream().map(Event::getType).toList());
        assertTrue(s.events(3).stream().noneMatch(Event::hasPrevKv));
        s.close();
    }

    @Test
    void aWatchBelowTheCompactedRevisionIsCancelledWithIt() {
        long first = put("compacted/k", "1");
        put("compacted/k", "2");
        long third = put("compacted/k", "3");
        kv.compact(CompactionRequest.newBuilder().setRevision(third).build());
        RawWatchStream s = RawWatchStream.open(channel, false);
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("compacted/k")).setStartRevision(first).setWatchId(5));
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("compacted/k")).setStartRevision(third).setWatchId(6));
        s.awaitEvents(6, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> s.received.stream().anyMatch(r -> r.getWatchId() == 5 && r.getCanceled()));
        WatchResponse cancelled = s.received.stream().filter(r -> r.getWatchId() == 5 && r.getCanceled()).findFirst().orElseThrow();
        assertEquals(third, cancelled.getCompactRevision());
        assertEquals(List.of(), s.events(5));
        assertEquals("3", s.events(6).get(0).getKv().getValue().toStringUtf8());
        s.close();
    }

    @Test
    void responsesLargerThanTheRequestLimitComeInFragmentsWhenAsked() {
        String value = "x".repeat(20_000);
        long start = 0;
        for (int i = 0; i < 10; i++) {
            long rev = put("fragment/" + i, value);
            start = start == 0 ? rev : start;
        }
        RawWatchStream s = RawWatchStream.open(channel, false);
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("fragment/")).setRangeEnd(bytes("fragment0"))
                .setStartRevision(start).setFragment(true).setWatchId(1));
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("fragment/")).setRangeEnd(bytes("fragment0"))
                .setStartRevision(start).setWatchId(2));
        s.awaitEvents(1, 10);
        s.awaitEvents(2, 10);
        List<WatchResponse> parts = s.received.stream().filter(r -> r.getWatchId() == 1 && r.getEventsCount() > 0).toList();
        assertTrue(parts.size() > 1, "expected several fragments, got " + parts.size());
        for (int i = 0; i < parts.size(); i++) {
            WatchResponse p = parts.get(i);
            assertEquals(i < parts.size() - 1, p.getFragment(), "fragment flag of part " + i);
            assertTrue(p.getSerializedSize() < MAX_REQUEST_BYTES || p.getEventsCount() == 1);
        }
        assertTrue(s.received.stream().filter(r -> r.getWatchId() == 2).noneMatch(WatchResponse::getFragment));
        s.close();
    }

    @Test
    void progressComesOnlyAfterEveryEventItVouchesFor() {
        long from = 0;
        for (int i = 0; i < 300; i++) {
            long rev = put("progress/" + (i % 7), "v" + i);
            from = from == 0 ? rev : from;
        }
        long head = put("progress/last", "v");
        RawWatchStream s = RawWatchStream.open(channel, false);
        // a live watcher, then one replaying 300 revisions, then at once a progress request
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("progress/")).setRangeEnd(bytes("progress0")).setWatchId(1));
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("progress/")).setRangeEnd(bytes("progress0"))
                .setStartRevision(from).setWatchId(2));
        s.send(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
        await().atMost(Duration.ofSeconds(30)).until(() -> s.received.stream().anyMatch(r -> r.getWatchId() == -1));
        int at = 0;
        while (s.received.get(at).getWatchId() != -1) {
            at++;
        }
        WatchResponse progress = s.received.get(at);
        assertTrue(progress.getHeader().getRevision() >= head, "progress at " + progress.getHeader().getRevision() + " < " + head);
        long sentBefore = s.received.subList(0, at).stream().filter(r -> r.getWatchId() == 2).mapToLong(WatchResponse::getEventsCount).sum();
        assertEquals(301, sentBefore, "the replay must be complete before the progress response");
        s.close();
    }

    @Test
    void progressNotifyReachesAnIdleWatcher() {
        long head = put("notify/k", "v");
        RawWatchStream s = RawWatchStream.open(channel, false);
        s.create(WatchCreateRequest.newBuilder().setKey(bytes("notify/k")).setProgressNotify(true).setWatchId(3));
        await().atMost(Duration.ofSeconds(30)).until(() -> s.received.stream()
                .anyMatch(r -> r.getWatchId() == 3 && !r.getCreated() && r.getEventsCount() == 0));
        WatchResponse notice = s.received.stream().filter(r -> r.getWatchId() == 3 && !r.getCreated()).findFirst().orElseThrow();
        assertTrue(notice.getHeader().getRevision() >= head);
        s.close();
    }

    @Test
    void aReaderThatStopsNeitherStallsOthersNorLosesEvents() throws Exception {
        ManagedChannel slowChannel = channel();
        RawWatchStream slow = RawWatchStream.open(slowChannel, true);
        RawWatchStream fast = RawWatchStream.open(channel, false);
        slow.create(WatchCreateRequest.newBuilder().setKey(bytes("slow/")).setRangeEnd(bytes("slow0")).setWatchId(1));
        fast.create(WatchCreateRequest.newBuilder().setKey(bytes("slow/")).setRangeEnd(bytes("slow0")).setWatchId(1));
        fast.awaitCreated(0);
        // the slow client reads only its created response, then nothing
        slow.requests.request(1);
        slow.awaitCreated(0);
        String value = "s".repeat(60_000);
        int writes = 200;
        for (int i = 0; i < writes; i++) {
            put("slow/" + (i % 10), value + i);
        }
        // 12 MB of events: far more than the transport windows and the stream's buffer
        fast.awaitEvents(1, writes);
        assertTrue(slow.events(1).size() < writes, "the slow reader was not slow");
        double moves = metric("vigil_watch_slow_moves_total");
        assertTrue(moves > 0, "the slow watcher never fell back to catch-up");
        slow.requests.request(Integer.MAX_VALUE);
        slow.awaitEvents(1, writes);
        assertEquals(fast.events(1), slow.events(1), "the slow reader got every event, in order, once");
        slow.close();
        fast.close();
        slowChannel.shutdownNow();
    }

    @Test
    void aReaderThatFallsBehindGetsSeveralRevisionsPerResponse() throws Exception {
        // a small window, so that what the client does not read waits in the server's queue
        ManagedChannel smallWindow = NettyChannelBuilder.forAddress(vigil.host(), vigil.port()).usePlaintext()
                .flowControlWindow(64 * 1024).build();
        RawWatchStream behind = RawWatchStream.open(smallWindow, true);
        behind.create(WatchCreateRequest.newBuilder().setKey(bytes("behind/")).setRangeEnd(bytes("behind0")).setWatchId(1));
        behind.requests.request(1);
        behind.awaitCreated(0);
        double mergedBefore = metric("vigil_watch_events_merged_total");
        String value = "b".repeat(1000);
        List<Long> revisions = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            revisions.add(put("behind/" + (i % 10), value));
        }
        behind.requests.request(Integer.MAX_VALUE);
        behind.awaitEvents(1, revisions.size());
        assertEquals(revisions, behind.events(1).stream().map(e -> e.getKv().getModRevision()).toList(),
                "every revision once, in order");
        assertTrue(metric("vigil_watch_events_merged_total") > mergedBefore, "no events were merged");
        List<WatchResponse> merged = behind.received.stream()
                .filter(r -> r.getWatchId() == 1 && r.getEventsCount() > 1).toList();
        assertTrue(!merged.isEmpty(), "no response carried several revisions");
        for (WatchResponse r : merged) {
            long newest = r.getEvents(r.getEventsCount() - 1).getKv().getModRevision();
            assertTrue(r.getHeader().getRevision() >= newest, "header below its events: " + r.getHeader());
            assertTrue(r.getSerializedSize() <= MAX_REQUEST_BYTES + 1024, "a merged response of " + r.getSerializedSize());
        }
        behind.close();
        smallWindow.shutdownNow();
    }

    @Test
    void jetcdWatchesPrefixesAndRequestsProgress() throws Exception {
        try (Client client = Client.builder().endpoints("http://" + vigil.endpoint()).build()) {
            Map<Integer, List<io.etcd.jetcd.watch.WatchEvent>> got = new ConcurrentHashMap<>();
            List<Watch.Watcher> watchers = new ArrayList<>();
            List<Long> progress = new CopyOnWriteArrayList<>();
            // from an explicit revision, so that writes racing the creates are not missed
            long start = put("jetcd/start", "x") + 1;
            for (int i = 0; i < 200; i++) {
                int n = i;
                got.put(n, new CopyOnWriteArrayList<>());
                watchers.add(client.getWatchClient().watch(ByteSequence.from("jetcd/" + (i % 20) + "/", StandardCharsets.UTF_8),
                        WatchOption.builder().isPrefix(true).withPrevKV(true).withRevision(start).build(),
                        Watch.listener(r -> {
                            if (r.isProgressNotify()) {
                                progress.add(r.getHeader().getRevision());
                            }
                            got.get(n).addAll(r.getEvents());
                        })));
            }
            long last = 0;
            for (int k = 0; k < 20; k++) {
                last = put("jetcd/" + k + "/key", "v");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> got.values().stream().allMatch(l -> !l.isEmpty()));
            for (int i = 0; i < 200; i++) {
                int n = i;
                assertEquals(1, got.get(n).size());
                assertEquals("jetcd/" + (i % 20) + "/key", got.get(n).get(0).getKeyValue().getKey().toString(StandardCharsets.UTF_8));
            }
            client.getWatchClient().requestProgress();
            long head = last;
            await().atMost(Duration.ofSeconds(30)).until(() -> progress.stream().anyMatch(r -> r >= head));
            watchers.forEach(Watch.Watcher::close);
        }
    }

    private double metric(String name) throws Exception {
        String url = null;
        Pattern p = Pattern.compile("serving metrics on (http://\\S+)");
        for (String line : vigil.output()) {
            Matcher m = p.matcher(line);
            if (m.find()) {
                url = m.group(1);
            }
        }
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError(name + " not in " + r.body());
    }
}
