package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.AlarmMember;
import io.vigil.proto.etcdserverpb.AlarmRequest;
import io.vigil.proto.etcdserverpb.AlarmResponse;
import io.vigil.proto.etcdserverpb.AlarmType;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.internal.InternalRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's side of operating it: alarms, defragmentation, and its files read offline. */
class MaintenanceTest {
    private static final ByteString VALUE = ByteString.copyFrom(new byte[16 * 1024]);

    @TempDir
    Path dir;
    private long index;

    private RevLog open() {
        return RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(256L << 20).syncOnCommit(false));
    }

    private ApplyResult apply(RevLog log, InternalRequest r) {
        return log.apply(List.of(new LogEntry(++index, r))).get(0);
    }

    private static InternalRequest put(String key, ByteString value) {
        return InternalRequest.newBuilder().setPut(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(value)).build();
    }

    private static InternalRequest alarm(AlarmRequest.AlarmAction action, long member, AlarmType type) {
        return InternalRequest.newBuilder().setAlarm(AlarmRequest.newBuilder().setAction(action).setMemberID(member).setAlarm(type)).build();
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @Test
    void noSpaceRefusesWhatAddsDataUntilDisarmedAndOutlivesARestart() {
        long revision;
        try (RevLog log = open()) {
            apply(log, put("a", bytes("1")));
            AlarmResponse raised = (AlarmResponse) apply(log, alarm(AlarmRequest.AlarmAction.ACTIVATE, 7, AlarmType.NOSPACE)).response();
            assertEquals(List.of(AlarmMember.newBuilder().setMemberID(7).setAlarm(AlarmType.NOSPACE).build()), raised.getAlarmsList());
            revision = log.currentRevision();

            assertEquals(RevLogException.Code.NO_SPACE, apply(log, put("b", bytes("2"))).error().code());
            assertEquals(RevLogException.Code.NO_SPACE, apply(log, InternalRequest.newBuilder().setLeaseGrant(
                    io.vigil.proto.etcdserverpb.LeaseGrantRequest.newBuilder().setID(5).setTTL(10)).build()).error().code());
            TxnRequest txnWithPut = TxnRequest.newBuilder().addFailure(RequestOp.newBuilder()
                    .setRequestPut(PutRequest.newBuilder().setKey(bytes("c")))).build();
            assertEquals(RevLogException.Code.NO_SPACE,
                    apply(log, InternalRequest.newBuilder().setTxn(txnWithPut).build()).error().code());
            assertEquals(revision, log.currentRevision(), "refused writes make no revision");
        }
        try (RevLog log = open()) {
            index = log.appliedIndex();
            assertEquals(List.of(AlarmMember.newBuilder().setMemberID(7).setAlarm(AlarmType.NOSPACE).build()), log.alarms(),
                    "the alarm is in the store");
            assertEquals(RevLogException.Code.NO_SPACE, apply(log, put("b", bytes("2"))).error().code());
            assertNull(apply(log, InternalRequest.newBuilder().setDeleteRange(
                    DeleteRangeRequest.newBuilder().setKey(bytes("a"))).build()).error(), "deletes go on");
            assertEquals(revision + 1, log.currentRevision());

            AlarmResponse gone = (AlarmResponse) apply(log, alarm(AlarmRequest.AlarmAction.DEACTIVATE, 7, AlarmType.NOSPACE)).response();
            assertEquals(1, gone.getAlarmsCount());
            assertEquals(List.of(), log.alarms());
            assertNull(apply(log, put("b", bytes("2"))).error());
        }
    }

    @Test
    void corruptRefusesEveryWriteAndGetListsAlarmsInOrder() {
        try (RevLog log = open()) {
            apply(log, alarm(AlarmRequest.AlarmAction.ACTIVATE, 9, AlarmType.NOSPACE));
            apply(log, alarm(AlarmRequest.AlarmAction.ACTIVATE, 3, AlarmType.CORRUPT));
            apply(log, alarm(AlarmRequest.AlarmAction.ACTIVATE, 3, AlarmType.CORRUPT));
            AlarmResponse all = (AlarmResponse) apply(log, alarm(AlarmRequest.AlarmAction.GET, 0, AlarmType.NONE)).response();
            assertEquals(List.of(3L, 9L), all.getAlarmsList().stream().map(AlarmMember::getMemberID).toList());
            assertEquals(RevLogException.Code.CORRUPT, apply(log, InternalRequest.newBuilder().setDeleteRange(
                    DeleteRangeRequest.newBuilder().setKey(bytes("a"))).build()).error().code());
            assertEquals(RevLogException.Code.CORRUPT, apply(log, InternalRequest.newBuilder().setCompaction(
                    CompactionRequest.newBuilder().setRevision(1)).build()).error().code());
            assertEquals(0, ((AlarmResponse) apply(log, alarm(AlarmRequest.AlarmAction.DEACTIVATE, 4, AlarmType.CORRUPT))
                    .response()).getAlarmsCount(), "disarming an alarm that is not raised changes nothing");
        }
    }

    /** Found by the wire fuzzer: an alarm type this build does not know once failed the apply (and stopped the member). */
    @Test
    void anAlarmRequestOfAnUnknownTypeChangesNothing() {
        try (RevLog log = open()) {
            for (AlarmRequest.AlarmAction action : List.of(AlarmRequest.AlarmAction.GET, AlarmRequest.AlarmAction.ACTIVATE,
                    AlarmRequest.AlarmAction.DEACTIVATE)) {
                InternalRequest unknown = InternalRequest.newBuilder().setAlarm(AlarmRequest.newBuilder()
                        .setAction(action).setMemberID(7).setAlarmValue(1000)).build();
                assertEquals(null, apply(log, unknown).error());
            }
            assertEquals(List.of(), log.alarms());
        }
    }

    /**
     * Compaction frees pages inside the file; a defragmentation gives them back, keeps every
     * retained revision, and readers running meanwhile read right throughout.
     */
    @Test
    void defragmentationShrinksTheFileAndKeepsEveryRevisionWhileReadersRead() throws Exception {
        try (RevLog log = open()) {
            for (int i = 0; i < 400; i++) {
                apply(log, put("k" + (i % 10), VALUE));
            }
            long head = log.currentRevision();
            apply(log, InternalRequest.newBuilder().setCompaction(CompactionRequest.newBuilder().setRevision(head - 5)).build());
            long before = log.dbSizeBytes();
            long inUse = log.dbSizeInUseBytes();
            assertTrue(inUse < before / 4, "compaction left most pages free: " + inUse + " of " + before);

            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> readerFailure = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                Thread reader = new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            assertEquals(10, log.range(RangeRequest.newBuilder().setKey(bytes("k")).setRangeEnd(bytes("l"))
                                    .build()).getCount());
                            assertEquals(5, log.readHistory(head - 4, 100, Long.MAX_VALUE, false).events().size());
                        }
                    } catch (Throwable e) {
                        readerFailure.set(e);
                    }
                });
                reader.start();
                readers.add(reader);
            }
            for (int round = 0; round < 5; round++) {
                log.defragment();
            }
            stop.set(true);
            for (Thread t : readers) {
                t.join();
            }
            assertNull(readerFailure.get());
            assertTrue(log.dbSizeBytes() < before / 4, "defragmented: " + before + " -> " + log.dbSizeBytes());
            assertNull(apply(log, put("after", bytes("v"))).error(), "writes go on after it");
            assertEquals(head + 1, log.currentRevision());
        }
        assertTrue(Files.notExists(dir.resolve(LmdbStore.DEFRAG_DIR)));
        try (RevLog log = open()) {
            assertEquals(11, log.range(RangeRequest.newBuilder().setKey(bytes("a")).setRangeEnd(bytes("l")).build()).getCount());
        }
    }

    @Test
    void storeFilesSummarizeDefragmentAndPrepareARestore() {
        try (RevLog log = open()) {
            for (int i = 0; i < 50; i++) {
                apply(log, put("k" + (i % 5), VALUE));
            }
            apply(log, InternalRequest.newBuilder().setCompaction(CompactionRequest.newBuilder().setRevision(40)).build());
        }
        StoreFiles.Summary s = StoreFiles.summarize(dir.resolve(StoreFiles.DATA_FILE));
        assertEquals(51, s.revision());
        assertEquals(40, s.compactRevision());
        assertEquals(16, s.totalKeys(), "each key's newest revision at or below 40 (36..40), and 41..51");

        StoreFiles.Defragmented d = StoreFiles.defragment(dir);
        assertTrue(d.bytesAfter() < d.bytesBefore(), d.toString());
        try (RevLog running = open()) {
            assertThrows(IllegalStateException.class, () -> StoreFiles.defragment(dir), "a running store is not defragmented offline");
        }

        StoreFiles.prepareRestored(dir);
        try (RevLog log = open()) {
            assertEquals(0, log.appliedIndex(), "a new cluster's log starts over");
            assertEquals(51, log.currentRevision());
            assertEquals(5, log.range(RangeRequest.newBuilder().setKey(bytes("k")).setRangeEnd(bytes("l")).build()).getCount());
        }
        assertThrows(IllegalArgumentException.class, () -> StoreFiles.summarize(dir.resolve("vigil.lock")));
    }
}
