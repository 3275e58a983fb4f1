package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.KeyValue;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readers racing the writer and its compactions: every revision writes all KEYS keys with the
 * revision's number as value, so any read that sees one committed revision sees the same value in
 * every key. A read of the head must always succeed; a read at an explicit revision may only fail
 * with "compacted". A history read returns whole, consecutive revisions from where it started.
 * Deferred, the writer commits every few batches, so reads also race the commits that move
 * revisions from the pending records into LMDB.
 */
class ConcurrentReadTest {
    private static final int KEYS = 10;
    private static final int REVISIONS = 4000;
    private static final int READERS = 3;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "deferred={0}")
    @ValueSource(booleans = {false, true})
    void readersSeeWholeRevisionsWhileWritingAndCompacting(boolean deferred) throws Exception {
        try (RevLog log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(256L << 20).syncOnCommit(false))) {
            AtomicBoolean done = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicLong reads = new AtomicLong();
            Thread[] readers = new Thread[READERS];
            for (int r = 0; r < READERS; r++) {
                long seed = r;
                readers[r] = new Thread(() -> {
                    Random rnd = new Random(seed);
                    while (!done.get()) {
                        try {
                            readOnce(log, rnd);
                            reads.incrementAndGet();
                        } catch (Throwable t) {
                            failures.add(t);
                            return;
                        }
                    }
                }, "reader-" + r);
                readers[r].start();
            }
            long index = 1;
            for (int rev = 0; rev < REVISIONS; rev++) {
                TxnRequest.Builder all = TxnRequest.newBuilder();
                for (int k = 0; k < KEYS; k++) {
                    all.addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
                            .setKey(ByteString.copyFromUtf8("k" + k))
                            .setValue(ByteString.copyFromUtf8(Long.toString(log.currentRevision() + 1)))));
                }
                List<LogEntry> batch = new java.util.ArrayList<>();
                batch.add(new LogEntry(index++, InternalRequest.newBuilder().setTxn(all).build()));
                if (rev % 20 == 19) {
                    batch.add(new LogEntry(index++, InternalRequest.newBuilder().setCompaction(
                            CompactionRequest.newBuilder().setRevision(log.currentRevision() - 2)).build()));
                }
                for (ApplyResult r : deferred ? log.applyDeferred(batch) : log.apply(batch)) {
                    assertEquals(null, r.error());
                }
                if (deferred && rev % 7 == 6) {
                    log.commit();
                }
            }
            log.commit();
            done.set(true);
            for (Thread t : readers) {
                t.join();
            }
            if (!failures.isEmpty()) {
                throw new AssertionError(failures.peek());
            }
            assertTrue(reads.get() > 0);
        }
    }

    private static void readOnce(RevLog log, Random rnd) {
        long head = log.currentRevision();
        if (rnd.nextInt(3) == 0) {
            readHistoryOnce(log, rnd, head);
            return;
        }
        boolean atHead = rnd.nextBoolean();
        long at = atHead ? 0 : Math.max(1, head - rnd.nextInt(5));
        List<KeyValue> kvs;
        if (rnd.nextBoolean()) {
            RangeRequest req = RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
                    .setRangeEnd(ByteString.copyFromUtf8("l")).setRevision(at).build();
            try {
                RangeResponse resp = log.range(req);
                kvs = resp.getKvsList();
            } catch (RevLogException e) {
                if (atHead || e.code() != RevLogException.Code.COMPACTED) {
                    throw e;
                }
                return;
            }
        } else {
            TxnResponse resp;
            try {
                resp = log.readOnlyTxn(TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestRange(
                        RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
                                .setRangeEnd(ByteString.copyFromUtf8("l")).setRevision(at))).build());
            } catch (RevLogException e) {
                if (atHead || e.code() != RevLogException.Code.COMPACTED) {
                    throw e;
                }
                return;
            }
            kvs = resp.getResponses(0).getResponseRange().getKvsList();
        }
        if (head == 1 && at <= 1) {
            return;
        }
        if (kvs.isEmpty() && at == 1) {
            return;
        }
        assertEquals(KEYS, kvs.size(), "keys at " + at);
        String first = kvs.get(0).getValue().toStringUtf8();
        for (KeyValue kv : kvs) {
            assertEquals(first, kv.getValue().toStringUtf8(), "a read mixed two revisions");
            assertEquals(Long.parseLong(first), kv.getModRevision());
        }
    }

    private static void readHistoryOnce(RevLog log, Random rnd, long head) {
        long from = Math.max(2, head - rnd.nextInt(30));
        int maxEvents = 1 + rnd.nextInt(3 * KEYS);
        History h = log.readHistory(from, maxEvents, Long.MAX_VALUE, rnd.nextBoolean());
        if (h.compacted()) {
            assertTrue(from < h.compactRevision(), "compacted at " + h.compactRevision() + " reading from " + from);
            return;
        }
        assertTrue(h.throughRevision() <= log.currentRevision(), "history past the published head");
        assertEquals((h.throughRevision() - from + 1) * KEYS, h.events().size(), "whole revisions from " + from);
        for (int i = 0; i < h.events().size(); i++) {
            KeyValue kv = h.events().get(i).getKv();
            long revision = from + i / KEYS;
            assertEquals(revision, kv.getModRevision());
            assertEquals("k" + (i % KEYS), kv.getKey().toStringUtf8());
            assertEquals(Long.toString(revision), kv.getValue().toStringUtf8());
            if (h.events().get(i).hasPrevKv()) {
                assertEquals(revision - 1, h.events().get(i).getPrevKv().getModRevision());
            }
        }
    }
}
