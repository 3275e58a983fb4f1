package io.vigil.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property test of the hub: random interleavings of writes (single events and multi-event txns),
 * watch creates from random revisions with random ranges and options, cancels, compactions,
 * progress requests and ticks, and readers that stall and resume, with small buffers so that
 * watchers keep falling back to catch-up. Catch-up runs only when the hub asks for it, so a lost
 * wake-up leaves a watcher behind and fails the run.
 *
 * <p>The checker: for every watcher, what it received equals the revision log filtered by its
 * range and filters from its start revision, in order, complete, without duplicates (a prefix of
 * it, for one cancelled or compacted away), also when writes, creates and stalls land between a
 * catch-up round's read and its feed; every progress notice at revision R comes after
 * every event up to R of every watcher it covers; no stream buffers more than its bound plus one
 * response. A failure names its seed; replay with {@code -Dvigil.watch.seed=N}.
 */
class WatchHubModelTest {
    private static final int SEEDS = Integer.getInteger("vigil.watch.seeds", 40);
    private static final int STEPS = Integer.getInteger("vigil.watch.steps", 600);
    private static final long BUFFER_BYTES = 2048;
    private static final String[] KEYS = {"", "a", "a0", "ab", "abc", "b", "b\u00ff", "ba", "c", "\u00ff"};

    @TempDir
    Path tmp;

    @Test
    void everyWatcherGetsExactlyItsHistory() throws Exception {
        Long only = Long.getLong("vigil.watch.seed");
        long first = only != null ? only : 1;
        long last = only != null ? only : SEEDS;
        for (long seed = first; seed <= last; seed++) {
            Path dir = Files.createTempDirectory(tmp, "seed" + seed);
            try (RevLog log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(64L << 20).syncOnCommit(false))) {
                new Run(seed, log).go();
            } catch (Throwable t) {
                throw new AssertionError("watch hub model test failed for seed " + seed
                        + " (replay: -Dvigil.watch.seed=" + seed + ")", t);
            }
        }
    }

    static ByteString bytes(String s) {
        return ByteString.copyFrom(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** A transport that is ready when told, and records what it was sent. */
    static final class FakeSink implements WatchSink {
        boolean ready = true;
        int requestCredits;
        final List<WatchResponse> received = new ArrayList<>();

        @Override
        public boolean isReady() {
            return ready;
        }

        @Override
        public void send(WatchOut response) {
            if (!ready) {
                throw new AssertionError("sent to a stream that is not ready");
            }
            received.add(response.toResponse());
        }

        @Override
        public void requestNext() {
            requestCredits++;
        }
    }

    /** What the client asked for, in the order it asked, to pair with created responses. */
    record Spec(ByteString key, ByteString end, long start, boolean noPut, boolean noDelete, boolean prevKv,
                boolean fragment, boolean valid) {
        boolean covers(Event e) {
            byte[] k = e.getKv().getKey().toByteArray();
            boolean inRange;
            if (end.isEmpty()) {
                inRange = key.equals(e.getKv().getKey());
            } else if (end.size() == 1 && end.byteAt(0) == 0) {
                inRange = Arrays.compareUnsigned(key.toByteArray(), k) <= 0;
            } else {
                inRange = Arrays.compareUnsigned(key.toByteArray(), k) <= 0 && Arrays.compareUnsigned(k, end.toByteArray()) < 0;
            }
            boolean typeOk = e.getType() == Event.EventType.PUT ? !noPut : !noDelete;
            return inRange && typeOk;
        }
    }

    /** A spec's share of the log, as far as the log has been scanned for it. */
    static final class Expected {
        final List<Event> events = new ArrayList<>();
        int scanned;
    }

    static final class ClientStream {
        final FakeSink sink = new FakeSink();
        WatchStream stream;
        final List<Spec> pendingCreates = new ArrayList<>();
        /** watch id -> spec, for watches the server confirmed and that are still open. */
        final Map<Long, Spec> open = new HashMap<>();
        final Map<Long, List<Event>> got = new HashMap<>();
        int checkedUpTo;
    }

    final class Run {
        final long seed;
        final Random rnd;
        final RevLog log;
        final WatchHub hub;
        final List<ClientStream> streams = new ArrayList<>();
        /** Every event of the log, in order, with prev_kv as the model computes it. */
        final List<Event> history = new ArrayList<>();
        final Map<ByteString, KeyValue> state = new HashMap<>();
        final Map<String, Event> historyByRevisionAndKey = new HashMap<>();
        final Map<Spec, Expected> expectedBySpec = new HashMap<>();
        long nextIndex = 1;
        int wakes;
        boolean interleaving;

        Run(long seed, RevLog log) {
            this.seed = seed;
            this.rnd = new Random(seed);
            this.log = log;
            this.hub = new WatchHub(log, new WatchHub.Config().streamBufferBytes(BUFFER_BYTES)
                    .catchUpChunkEvents(1 + rnd.nextInt(4)).catchUpChunkBytes(rnd.nextBoolean() ? 200 : 1 << 20)
                    .maxRequestBytes(300).mergeBytes(new long[] {0, 150, 64 << 10}[rnd.nextInt(3)]),
                    rev -> ResponseHeader.newBuilder().setRevision(rev).build(), () -> wakes++,
                    new SimpleMeterRegistry());
        }

        void go() {
            for (int i = 0; i < 3; i++) {
                openStream();
            }
            // between a catch-up read and its feed: the live path and clients go on meanwhile
            hub.afterHistoryRead = () -> {
                if (interleaving || rnd.nextInt(4) != 0) {
                    return;
                }
                interleaving = true;
                switch (rnd.nextInt(3)) {
                    case 0 -> write();
                    case 1 -> create(pick());
                    default -> {
                        ClientStream c = pick();
                        c.sink.ready = !c.sink.ready;
                        if (c.sink.ready) {
                            c.stream.onReady();
                        }
                    }
                }
                interleaving = false;
            };
            for (int step = 0; step < STEPS; step++) {
                int op = rnd.nextInt(100);
                if (op < 35) {
                    write();
                } else if (op < 50) {
                    create(pick());
                } else if (op < 55) {
                    cancel(pick());
                } else if (op < 58) {
                    compact();
                } else if (op < 70) {
                    ClientStream c = pick();
                    c.sink.ready = !c.sink.ready;
                    if (c.sink.ready) {
                        c.stream.onReady();
                    }
                } else if (op < 85) {
                    runCatchUpIfWoken();
                } else if (op < 90) {
                    progress(pick());
                } else if (op < 92) {
                    hub.progressNotifyTick();
                } else if (op < 94) {
                    ClientStream c = pick();
                    c.stream.close();
                    streams.remove(c);
                    openStream();
                } else {
                    checkAll(false);
                }
                checkAll(false);
            }
            // settle: every reader reads again; catch-up runs as long as it is woken
            hub.afterHistoryRead = () -> { };
            for (ClientStream c : streams) {
                c.sink.ready = true;
                c.stream.onReady();
            }
            int rounds = 0;
            while (wakes > 0) {
                runCatchUpIfWoken();
                if (++rounds > 100_000) {
                    fail("catch-up does not settle");
                }
            }
            checkAll(true);
        }

        ClientStream pick() {
            return streams.get(rnd.nextInt(streams.size()));
        }

        void openStream() {
            ClientStream c = new ClientStream();
            c.stream = hub.openStream(c.sink);
            c.sink.requestCredits = 1;
            streams.add(c);
        }

        /** A client request only when the stream asked for one (inbound flow control). */
        boolean takeCredit(ClientStream c) {
            if (c.sink.requestCredits == 0) {
                return false;
            }
            c.sink.requestCredits--;
            return true;
        }

        void runCatchUpIfWoken() {
            if (wakes == 0) {
                return;
            }
            wakes = 0;
            while (hub.catchUp()) {
                // as the server's executor does: rounds until there is nothing to do
            }
        }

        // ---- writes ----

        ByteString key() {
            return bytes(KEYS[rnd.nextInt(KEYS.length)]);
        }

        void write() {
            int n = 1 + rnd.nextInt(3);
            List<LogEntry> entries = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                entries.add(new LogEntry(nextIndex++, randomWrite()));
            }
            List<ApplyResult> results = log.apply(entries);
            for (ApplyResult r : results) {
                for (Event e : r.events()) {
                    model(e);
                }
            }
            hub.publish(results);
        }

        InternalRequest randomWrite() {
            int kind = rnd.nextInt(10);
            if (kind < 6) {
                return InternalRequest.newBuilder().setPut(put(key())).build();
            }
            if (kind < 8) {
                ByteString k = key();
                DeleteRangeRequest.Builder d = DeleteRangeRequest.newBuilder().setKey(k);
                if (rnd.nextBoolean()) {
                    d.setRangeEnd(rnd.nextBoolean() ? bytes("\0") : bytes(KEYS[rnd.nextInt(KEYS.length)] + "z"));
                }
                return InternalRequest.newBuilder().setDeleteRange(d).build();
            }
            // a txn of puts of distinct keys: several events in one revision
            TxnRequest.Builder t = TxnRequest.newBuilder();
            List<String> ks = new ArrayList<>(Arrays.asList(KEYS));
            java.util.Collections.shuffle(ks, rnd);
            for (int i = 0; i < 2 + rnd.nextInt(4); i++) {
                t.addSuccess(RequestOp.newBuilder().setRequestPut(put(bytes(ks.get(i)))));
            }
            return InternalRequest.newBuilder().setTxn(t).build();
        }

        PutRequest put(ByteString k) {
            byte[] v = new byte[rnd.nextInt(120)];
            rnd.nextBytes(v);
            return PutRequest.newBuilder().setKey(k).setValue(ByteString.copyFrom(v)).build();
        }

        void model(Event e) {
            ByteString k = e.getKv().getKey();
            KeyValue before = state.get(k);
            Event.Builder expected = Event.newBuilder().setType(e.getType()).setKv(e.getKv());
            boolean create = e.getType() == Event.EventType.PUT && e.getKv().getVersion() == 1;
            if (before != null && !create) {
                expected.setPrevKv(before);
            }
            Event modelled = expected.build();
            history.add(modelled);
            historyByRevisionAndKey.put(modelled.getKv().getModRevision() + "/" + k.toStringUtf8(), modelled);
            if (e.getType() == Event.EventType.PUT) {
                state.put(k, e.getKv());
            } else {
                state.remove(k);
            }
        }

        void compact() {
            long head = log.currentRevision();
            long target = log.compactRevision() + 1 + rnd.nextInt(5);
            if (target > head) {
                return;
            }
            List<ApplyResult> results = log.apply(List.of(new LogEntry(nextIndex++, InternalRequest.newBuilder()
                    .setCompaction(CompactionRequest.newBuilder().setRevision(target)).build())));
            hub.publish(results);
        }

        // ---- watch requests ----

        void create(ClientStream c) {
            if (!takeCredit(c)) {
                return;
            }
            ByteString key = key();
            ByteString end;
            int form = rnd.nextInt(5);
            if (form == 0) {
                end = ByteString.EMPTY;
            } else if (form == 1) {
                end = bytes("\0");
            } else if (form == 2) {
                end = prefixEnd(key);
            } else {
                end = key();
            }
            boolean valid = end.isEmpty() || (end.size() == 1 && end.byteAt(0) == 0)
                    || Arrays.compareUnsigned(key.toByteArray(), end.toByteArray()) < 0;
            long head = log.currentRevision();
            long start = switch (rnd.nextInt(6)) {
                case 0 -> 0;
                case 1 -> head + 1 + rnd.nextInt(3);
                default -> Math.max(1, head - rnd.nextInt((int) head + 2) + 1);
            };
            WatchCreateRequest.Builder req = WatchCreateRequest.newBuilder().setKey(key).setRangeEnd(end)
                    .setStartRevision(start).setPrevKv(rnd.nextBoolean()).setFragment(rnd.nextInt(4) == 0);
            if (rnd.nextInt(5) == 0) {
                req.addFilters(rnd.nextBoolean() ? WatchCreateRequest.FilterType.NOPUT : WatchCreateRequest.FilterType.NODELETE);
            }
            if (rnd.nextInt(6) == 0) {
                req.setProgressNotify(true);
            }
            c.pendingCreates.add(new Spec(key, end, start == 0 ? head + 1 : start,
                    req.getFiltersList().contains(WatchCreateRequest.FilterType.NOPUT),
                    req.getFiltersList().contains(WatchCreateRequest.FilterType.NODELETE),
                    req.getPrevKv(), req.getFragment(), valid));
            c.stream.create(req.build());
        }

        ByteString prefixEnd(ByteString key) {
            byte[] k = key.toByteArray();
            for (int i = k.length - 1; i >= 0; i--) {
                if (k[i] != (byte) 0xff) {
                    byte[] e = Arrays.copyOf(k, i + 1);
                    e[i]++;
                    return ByteString.copyFrom(e);
                }
            }
            return bytes("\0");
        }

        void cancel(ClientStream c) {
            if (c.open.isEmpty() || !takeCredit(c)) {
                return;
            }
            List<Long> ids = new ArrayList<>(c.open.keySet());
            c.stream.cancel(ids.get(rnd.nextInt(ids.size())));
        }

        void progress(ClientStream c) {
            if (takeCredit(c)) {
                c.stream.requestProgress();
            }
        }

        // ---- the checker ----

        void checkAll(boolean settled) {
            for (ClientStream c : streams) {
                assertTrue(c.stream.queuedBytes() <= BUFFER_BYTES + 4096,
                        "stream buffers " + c.stream.queuedBytes() + " bytes");
                check(c);
                if (settled) {
                    for (Map.Entry<Long, Spec> w : c.open.entrySet()) {
                        Watcher state = c.stream.watcher(w.getKey());
                        assertEquals(expected(w.getValue(), Long.MAX_VALUE), c.got.get(w.getKey()),
                                "watcher " + w.getKey() + " " + w.getValue() + " after settling; state "
                                        + (state == null ? "gone" : state.state() + " next " + state.nextRevision)
                                        + ", published " + hub.lastPublished() + ", queued " + c.stream.queuedBytes());
                    }
                    assertTrue(c.pendingCreates.isEmpty(), "creates never answered");
                }
            }
        }

        void check(ClientStream c) {
            List<WatchResponse> rs = c.sink.received;
            for (; c.checkedUpTo < rs.size(); c.checkedUpTo++) {
                WatchResponse r = rs.get(c.checkedUpTo);
                long id = r.getWatchId();
                if (r.getCreated()) {
                    Spec spec = c.pendingCreates.remove(0);
                    assertEquals(!spec.valid(), r.getCanceled(), "created/canceled for " + spec);
                    if (spec.valid()) {
                        assertTrue(c.open.put(id, spec) == null, "watch id " + id + " reused while open");
                        c.got.put(id, new ArrayList<>());
                    } else {
                        assertEquals(WatchHub.ERR_EMPTY_RANGE, r.getCancelReason());
                    }
                } else if (r.getCanceled()) {
                    Spec spec = c.open.remove(id);
                    assertTrue(spec != null, "cancel of unknown watch " + id);
                    List<Event> got = c.got.remove(id);
                    List<Event> all = expected(spec, Long.MAX_VALUE);
                    assertEquals(all.subList(0, got.size()), got, "cancelled watcher got a prefix");
                    if (r.getCompactRevision() != 0) {
                        long position = got.isEmpty() ? spec.start() : got.get(got.size() - 1).getKv().getModRevision() + 1;
                        assertTrue(position < r.getCompactRevision(),
                                "compacted at " + r.getCompactRevision() + " but was at " + position);
                    }
                } else if (id == -1) {
                    // a progress notice: every watcher of the stream has everything up to R
                    for (Map.Entry<Long, Spec> w : c.open.entrySet()) {
                        assertUpTo(w.getKey(), w.getValue(), c.got.get(w.getKey()), r.getHeader().getRevision());
                    }
                } else if (r.getEventsCount() == 0) {
                    Spec spec = c.open.get(id);
                    assertUpTo(id, spec, c.got.get(id), r.getHeader().getRevision());
                } else {
                    Spec spec = c.open.get(id);
                    assertTrue(spec != null, "events for unknown watch " + id);
                    List<Event> got = c.got.get(id);
                    if (!spec.fragment()) {
                        assertTrue(!r.getFragment(), "fragment without asking");
                    }
                    int before = got.size();
                    for (Event e : r.getEventsList()) {
                        got.add(normalizePrevKv(spec, e));
                    }
                    List<Event> all = expected(spec, Long.MAX_VALUE);
                    assertTrue(got.size() <= all.size(), "more events than the log holds for " + spec);
                    // what came before was checked when it came
                    assertEquals(all.subList(before, got.size()), got.subList(before, got.size()), "watch " + id + " " + spec);
                    if (r.getEventsCount() > 0 && !r.getFragment()) {
                        // whole revisions: the response ends at a revision boundary
                        long lastRev = got.get(got.size() - 1).getKv().getModRevision();
                        assertTrue(all.size() == got.size() || all.get(got.size()).getKv().getModRevision() > lastRev,
                                "a revision was split without fragment");
                    }
                }
            }
        }

        /** prev_kv may be missing when compaction took it; the checker then accepts its absence. */
        Event normalizePrevKv(Spec spec, Event e) {
            if (!spec.prevKv()) {
                assertTrue(!e.hasPrevKv(), "prev_kv sent without asking");
                return e;
            }
            Event model = findModel(e);
            if (model.hasPrevKv() && !e.hasPrevKv() && e.getKv().getModRevision() <= log.compactRevision()) {
                return model;
            }
            return e;
        }

        Event findModel(Event e) {
            Event h = historyByRevisionAndKey.get(e.getKv().getModRevision() + "/" + e.getKv().getKey().toStringUtf8());
            if (h == null) {
                fail("event not in the log: " + e);
            }
            return h;
        }

        /**
         * A progress notice at revision vouches for every event up to it, and never names a
         * revision below an event the watcher already got (a client's bookmark must not go back).
         */
        void assertUpTo(long id, Spec spec, List<Event> got, long revision) {
            if (!got.isEmpty()) {
                long newest = got.get(got.size() - 1).getKv().getModRevision();
                assertTrue(newest <= revision, "progress at " + revision + " after watch " + id
                        + " already got revision " + newest);
            }
            List<Event> want = expected(spec, revision);
            assertTrue(got.size() >= want.size() && got.subList(0, want.size()).equals(want),
                    "progress at " + revision + " ahead of watch " + id + " " + spec + ": got " + got.size()
                            + " of " + want.size() + " events");
        }

        /** The log filtered for spec up to upTo; kept per spec and extended as the log grows. */
        List<Event> expected(Spec spec, long upTo) {
            Expected x = expectedBySpec.computeIfAbsent(spec, k -> new Expected());
            for (; x.scanned < history.size(); x.scanned++) {
                Event e = history.get(x.scanned);
                if (e.getKv().getModRevision() >= spec.start() && spec.covers(e)) {
                    x.events.add(spec.prevKv() ? e : e.toBuilder().clearPrevKv().build());
                }
            }
            if (upTo == Long.MAX_VALUE) {
                return x.events;
            }
            int n = 0;
            while (n < x.events.size() && x.events.get(n).getKv().getModRevision() <= upTo) {
                n++;
            }
            return x.events.subList(0, n);
        }
    }
}
