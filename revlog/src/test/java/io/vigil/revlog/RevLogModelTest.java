package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeResponse;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property test: random sequences of puts, deletes, txns, compactions, restarts and historical
 * reads, applied to the LMDB store and to a plain in-memory model that keeps a full copy of the
 * key space at every revision. Every response and every read must agree, and history read from
 * any retained revision must be the events the applies reported. Odd seeds apply deferred,
 * commit at random points and restart without committing too, replaying the entries after
 * {@code committedIndex} from the test's own log (as a member replays its WAL). A failure names
 * its seed; replay one with {@code -Dvigil.revlog.seed=N}.
 */
class RevLogModelTest {
    private static final int SEEDS = 60;
    private static final int STEPS = Integer.getInteger("vigil.revlog.steps", 300);

    @TempDir
    Path tmp;

    @Test
    void storeAgreesWithModel() throws Exception {
        Seeds.forEach("revlog model test", SEEDS, tmp, (seed, dir) -> new Run(seed, dir).go());
    }

    /** The model: a full copy of the key space per revision. Keys are ISO-8859-1 strings. */
    static final class Model {
        final Map<Long, TreeMap<String, KeyValue>> states = new HashMap<>();
        TreeMap<String, KeyValue> current = new TreeMap<>();
        long revision = 1;
        long compacted = -1;

        Model() {
            states.put(1L, new TreeMap<>());
        }

        /** Starts a new revision; its changes land in current; commit() seals it. */
        void commit() {
            revision++;
            states.put(revision, new TreeMap<>(current));
        }

        KeyValue put(String key, ByteString value, long atRevision) {
            KeyValue prev = current.get(key);
            KeyValue kv = KeyValue.newBuilder().setKey(bytes(key)).setValue(value)
                    .setCreateRevision(prev == null ? atRevision : prev.getCreateRevision())
                    .setModRevision(atRevision)
                    .setVersion(prev == null ? 1 : prev.getVersion() + 1)
                    .build();
            current.put(key, kv);
            return prev;
        }

        List<KeyValue> delete(String key, String end) {
            List<KeyValue> gone = new ArrayList<>(inRange(current, key, end).values());
            for (KeyValue kv : gone) {
                current.remove(str(kv.getKey()));
            }
            return gone;
        }

        static Map<String, KeyValue> inRange(TreeMap<String, KeyValue> m, String key, String end) {
            if (end.isEmpty()) {
                KeyValue kv = m.get(key);
                return kv == null ? Map.of() : Map.of(key, kv);
            }
            if (end.equals("\0")) {
                return m.tailMap(key, true);
            }
            if (key.compareTo(end) >= 0) {
                return Map.of();
            }
            return m.subMap(key, end);
        }
    }

    final class Run {
        final Random rnd;
        final Path dir;
        final Model model = new Model();
        final boolean deferred;
        /** Every entry applied, index i at position i - 1: the write-ahead log of a deferred run. */
        final List<LogEntry> wal = new ArrayList<>();
        /** The events each revision's apply reported, without prev_kv. */
        final Map<Long, List<Event>> eventsAt = new HashMap<>();
        RevLog log;
        long nextIndex = 1;

        Run(long seed, Path dir) {
            this.rnd = new Random(seed);
            this.dir = dir;
            this.deferred = seed % 2 == 1;
        }

        void go() {
            log = open();
            try {
                for (int step = 0; step < STEPS; step++) {
                    int dice = rnd.nextInt(100);
                    if (dice < 35) {
                        put();
                    } else if (dice < 45) {
                        delete();
                    } else if (dice < 60) {
                        txn();
                    } else if (dice < 64) {
                        compact();
                    } else if (dice < 66) {
                        restart();
                    } else if (dice < 72) {
                        readHistory();
                    } else {
                        read();
                    }
                }
                for (long r = Math.max(1, model.compacted); r <= model.revision; r++) {
                    readAll(r);
                }
            } finally {
                log.close();
            }
        }

        RevLog open() {
            return RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(64L << 20).syncOnCommit(false));
        }

        /** Deferred, half the restarts come without a commit: a crash, after which the log replays. */
        void restart() {
            if (deferred && rnd.nextBoolean()) {
                log.commit();
            }
            log.close();
            log = open();
            if (deferred) {
                long committed = log.committedIndex();
                List<LogEntry> replay = wal.subList((int) committed, wal.size());
                if (rnd.nextBoolean()) {
                    log.applyDeferred(replay);
                } else {
                    log.apply(replay);
                }
            }
            assertEquals(model.revision, log.currentRevision(), "revision after restart");
        }

        ApplyResult apply(InternalRequest req) {
            LogEntry entry = new LogEntry(nextIndex++, req);
            wal.add(entry);
            List<ApplyResult> results = deferred ? log.applyDeferred(List.of(entry)) : log.apply(List.of(entry));
            if (deferred && rnd.nextInt(5) == 0) {
                log.commit();
            }
            assertEquals(1, results.size());
            ApplyResult r = results.get(0);
            if (!r.events().isEmpty()) {
                List<Event> plain = new ArrayList<>();
                for (Event e : r.events()) {
                    plain.add(e.toBuilder().clearPrevKv().build());
                }
                eventsAt.put(r.revision(), plain);
            }
            return r;
        }

        /** History from a retained revision is what the applies of those revisions reported. */
        void readHistory() {
            long from = Math.max(1, model.compacted) + rnd.nextInt((int) (model.revision - Math.max(1, model.compacted)) + 2);
            int maxEvents = 1 + rnd.nextInt(6);
            History h = log.readHistory(from, maxEvents, Long.MAX_VALUE, false);
            assertEquals(false, h.compacted(), "history from " + from + ", compacted " + model.compacted);
            List<Event> expected = new ArrayList<>();
            for (long r = from; r <= h.throughRevision(); r++) {
                expected.addAll(eventsAt.getOrDefault(r, List.of()));
            }
            assertEquals(expected, h.events(), "history from " + from);
            // whole revisions, up to the one in which the maxEvents-th event falls
            long through = from - 1;
            int count = 0;
            for (long r = from; r <= model.revision && count < maxEvents; r++) {
                count += eventsAt.getOrDefault(r, List.of()).size();
                through = r;
            }
            assertEquals(Math.max(through, from - 1), h.throughRevision(), "history from " + from + ", " + maxEvents + " events");
        }

        String key() {
            // a small alphabet, so that keys collide, including bytes above 0x7f and 0x00
            char[] alphabet = {'a', 'b', 'c', '\0', '\u00ff', '\u0080'};
            int len = 1 + rnd.nextInt(3);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < len; i++) {
                sb.append(alphabet[rnd.nextInt(rnd.nextInt(4) == 0 ? alphabet.length : 3)]);
            }
            return sb.toString();
        }

        String end(String key) {
            return switch (rnd.nextInt(4)) {
                case 0 -> "";
                case 1 -> "\0";
                case 2 -> str(ByteString.copyFrom(KeyRanges.prefixEnd(bytes(key).toByteArray())));
                default -> key();
            };
        }

        ByteString value() {
            byte[] v = new byte[rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(40)];
            rnd.nextBytes(v);
            return ByteString.copyFrom(v);
        }

        void put() {
            String k = key();
            ByteString v = value();
            ApplyResult r = apply(InternalRequest.newBuilder()
                    .setPut(PutRequest.newBuilder().setKey(bytes(k)).setValue(v).setPrevKv(true)).build());
            KeyValue prev = model.put(k, v, model.revision + 1);
            model.commit();
            PutResponse resp = (PutResponse) r.response();
            assertEquals(model.revision, resp.getHeader().getRevision());
            assertEquals(prev == null ? KeyValue.getDefaultInstance() : prev, resp.getPrevKv());
            Event.Builder event = Event.newBuilder().setType(Event.EventType.PUT).setKv(model.current.get(k));
            if (prev != null) {
                event.setPrevKv(prev);
            }
            assertEquals(List.of(event.build()), r.events());
        }

        void delete() {
            String k = key();
            String e = end(k);
            ApplyResult r = apply(InternalRequest.newBuilder().setDeleteRange(
                    DeleteRangeRequest.newBuilder().setKey(bytes(k)).setRangeEnd(bytes(e)).setPrevKv(true)).build());
            List<KeyValue> gone = model.delete(k, e);
            if (!gone.isEmpty()) {
                model.commit();
            }
            DeleteRangeResponse resp = (DeleteRangeResponse) r.response();
            assertEquals(model.revision, resp.getHeader().getRevision());
            assertEquals(gone.size(), resp.getDeleted());
            assertEquals(gone, resp.getPrevKvsList());
            assertEquals(gone.size(), r.events().size());
        }

        /** compare version(k1) == n; success: put k2, range k1; failure: delete k3. */
        void txn() {
            String k1 = key();
            String k2 = key();
            String k3 = key();
            long version = rnd.nextInt(3);
            ByteString v = value();
            TxnRequest t = TxnRequest.newBuilder()
                    .addCompare(Compare.newBuilder().setKey(bytes(k1)).setTarget(Compare.CompareTarget.VERSION)
                            .setResult(Compare.CompareResult.EQUAL).setVersion(version))
                    .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bytes(k2)).setValue(v)))
                    .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(bytes(k1))))
                    .addFailure(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(bytes(k3))))
                    .build();
            RequestChecks.checkTxn(t, RequestChecks.MAX_TXN_OPS_DEFAULT);
            ApplyResult r = apply(InternalRequest.newBuilder().setTxn(t).build());
            TxnResponse resp = (TxnResponse) r.response();
            KeyValue cur = model.current.get(k1);
            boolean succeeded = (cur == null ? 0 : cur.getVersion()) == version;
            assertEquals(succeeded, resp.getSucceeded());
            if (succeeded) {
                model.put(k2, v, model.revision + 1);
                model.commit();
                KeyValue seen = model.current.get(k1);
                RangeResponse rr = resp.getResponses(1).getResponseRange();
                assertEquals(seen == null ? List.of() : List.of(seen), rr.getKvsList(), "txn range sees its own put");
            } else if (!model.delete(k3, "").isEmpty()) {
                model.commit();
            }
            assertEquals(model.revision, resp.getHeader().getRevision());
        }

        void compact() {
            long target = rnd.nextInt((int) model.revision + 3) - 1;
            ApplyResult r = apply(InternalRequest.newBuilder()
                    .setCompaction(CompactionRequest.newBuilder().setRevision(target)).build());
            if (target > model.revision) {
                assertEquals(RevLogException.Code.FUTURE_REVISION, r.error().code());
            } else if (target <= model.compacted) {
                assertEquals(RevLogException.Code.COMPACTED, r.error().code());
            } else {
                assertNull(r.error());
                model.compacted = target;
            }
            assertEquals(model.revision, r.revision());
        }

        void read() {
            long at = rnd.nextInt(5) == 0 ? 0 : 1 + (long) rnd.nextInt((int) model.revision + 1);
            String k = key();
            String e = end(k);
            RangeRequest.Builder req = RangeRequest.newBuilder().setKey(bytes(k)).setRangeEnd(bytes(e)).setRevision(at);
            int limit = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(3) : 0;
            req.setLimit(limit);
            long effective = at == 0 ? model.revision : at;
            RangeResponse resp;
            try {
                resp = log.range(req.build());
            } catch (RevLogException refused) {
                if (effective > model.revision) {
                    assertEquals(RevLogException.Code.FUTURE_REVISION, refused.code());
                } else if (effective < model.compacted) {
                    assertEquals(RevLogException.Code.COMPACTED, refused.code());
                } else {
                    fail("unexpected " + refused.code() + " reading at " + effective);
                }
                return;
            }
            if (effective > model.revision || effective < model.compacted) {
                fail("read at " + effective + " should have been refused (head " + model.revision
                        + ", compacted " + model.compacted + ")");
            }
            List<KeyValue> expected = new ArrayList<>(Model.inRange(model.states.get(effective), k, e).values());
            assertEquals(model.revision, resp.getHeader().getRevision());
            assertEquals(expected.size(), resp.getCount());
            boolean more = limit > 0 && expected.size() > limit;
            assertEquals(more ? expected.subList(0, limit) : expected, resp.getKvsList());
            assertEquals(more, resp.getMore());
        }

        void readAll(long at) {
            RangeResponse resp = log.range(RangeRequest.newBuilder()
                    .setKey(ByteString.copyFrom(new byte[] {0})).setRangeEnd(ByteString.copyFrom(new byte[] {0}))
                    .setRevision(at).build());
            assertEquals(new ArrayList<>(model.states.get(at).values()), resp.getKvsList(), "state at " + at);
        }
    }

    static ByteString bytes(String s) {
        return ByteString.copyFrom(s, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    static String str(ByteString b) {
        return b.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @SuppressWarnings("unused")
    private static String hex(byte[] b) {
        return Arrays.toString(b);
    }
}
