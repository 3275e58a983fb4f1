package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.internal.InternalRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store that runs out of space refuses the batch with etcd's "database space exceeded", keeps
 * every acknowledged write, keeps its revision, and goes on serving reads.
 */
class StoreFullTest {
    private static final ByteString VALUE = ByteString.copyFrom(new byte[32 * 1024]);

    @TempDir
    Path dir;

    private record Filled(int acknowledged, ApplyResult refused) {
    }

    /**
     * Puts 32 KiB values to keys k0, k1, ... one entry a batch until one is refused. Deferred, the
     * store commits after every tenth put.
     */
    private static Filled fill(RevLog log, boolean deferred) {
        for (int i = 0; i < 1000; i++) {
            List<LogEntry> batch = List.of(new LogEntry(log.appliedIndex() + 1, InternalRequest.newBuilder().setPut(
                    PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k" + i)).setValue(VALUE)).build()));
            ApplyResult r = (deferred ? log.applyDeferred(batch) : log.apply(batch)).get(0);
            if (r.error() != null) {
                return new Filled(i, r);
            }
            if (deferred && i % 10 == 9) {
                log.commit();
            }
        }
        throw new AssertionError("1000 puts of 32 KiB fitted in a 2 MiB store");
    }

    @Test
    void aFullStoreRefusesWritesAndKeepsWhatItHad() {
        try (RevLog log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(2L << 20).syncOnCommit(false))) {
            Filled filled = fill(log, false);
            int acknowledged = filled.acknowledged();
            ApplyResult last = filled.refused();
            assertTrue(acknowledged > 0 && acknowledged < 1000, "acknowledged " + acknowledged);
            assertEquals(RevLogException.Code.NO_SPACE, last.error().code());
            assertEquals(1 + acknowledged, log.currentRevision(), "a refused batch makes no revision");

            RangeResponse all = log.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
                    .setRangeEnd(ByteString.copyFromUtf8("l")).setCountOnly(true).build());
            assertEquals(acknowledged, all.getCount());
            RangeResponse one = log.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k0")).build());
            assertEquals(VALUE, one.getKvs(0).getValue());
            assertNull(log.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k" + acknowledged)).build())
                    .getKvsList().stream().findAny().orElse(null), "the refused put left nothing behind");
        }
    }

    @Test
    void aRefusedBatchLeavesNoLeaseOrAttachmentBehind() {
        try (RevLog log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(2L << 20).syncOnCommit(false))) {
            long index = 0;
            log.apply(List.of(new LogEntry(++index, LeaseTest.grant(1, 100))));
            int acknowledged = 0;
            List<ApplyResult> last = null;
            for (int i = 0; i < 1000; i++) {
                // one batch: a grant, then a put attaching a key to lease 1
                last = log.apply(List.of(
                        new LogEntry(++index, LeaseTest.grant(100 + i, 100)),
                        new LogEntry(++index, InternalRequest.newBuilder().setPut(PutRequest.newBuilder()
                                .setKey(ByteString.copyFromUtf8("k" + i)).setValue(VALUE).setLease(1)).build())));
                if (last.get(0).error() != null) {
                    break;
                }
                acknowledged++;
            }
            assertTrue(acknowledged > 0 && acknowledged < 1000, "acknowledged " + acknowledged);
            assertEquals(RevLogException.Code.NO_SPACE, last.get(1).error().code());
            assertEquals(acknowledged + 1, log.lessor().size(), "the refused grant left no lease");
            assertTrue(log.lessor().timeToLive(100 + acknowledged, false).isEmpty());
            assertEquals(acknowledged, log.lessor().timeToLive(1, true).orElseThrow().keys().size(),
                    "the refused put left no attachment");
        }
    }

    /**
     * Deferred, the store fills while entries applied since the last commit wait in the open
     * transaction: they are kept (applied again and committed), and only the batch that does not
     * fit is refused.
     */
    @Test
    void aFullStoreKeepsTheDeferredEntriesAndRefusesOnlyTheBatch() {
        try (RevLog log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(2L << 20).syncOnCommit(false))) {
            Filled filled = fill(log, true);
            int acknowledged = filled.acknowledged();
            ApplyResult last = filled.refused();
            assertTrue(acknowledged > 0 && acknowledged < 1000, "acknowledged " + acknowledged);
            assertTrue(acknowledged % 10 != 0, "the store filled with nothing uncommitted: " + acknowledged);
            assertEquals(RevLogException.Code.NO_SPACE, last.error().code());
            assertEquals(1 + acknowledged, log.currentRevision(), "a refused batch makes no revision");
            assertEquals(last.index(), log.appliedIndex(), "a refused entry counts as applied: no replay applies it");
            assertEquals(log.appliedIndex(), log.committedIndex(), "the kept entries were committed");
            log.commit();
        }
        try (RevLog log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(2L << 20).syncOnCommit(false))) {
            RangeResponse all = log.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
                    .setRangeEnd(ByteString.copyFromUtf8("l")).setCountOnly(true).build());
            assertEquals(log.currentRevision() - 1, all.getCount(), "every acknowledged put is in the store");
        }
    }
}
