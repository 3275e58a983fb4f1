package io.vigil.revlog;

import static io.vigil.revlog.LeaseTest.bytes;
import static io.vigil.revlog.LeaseTest.grant;
import static io.vigil.revlog.LeaseTest.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A put takes create_revision, version and the old lease from the key index, not from the value
 * it replaces, and its event leaves apply without prev_kv unless the request read it anyway; a
 * watcher that asks gets it from {@link RevLog#withPrevKv}, as etcd's watch server reads it at
 * send time. Across a restart the index is rebuilt with the same facts.
 */
class PrevKvTest {
    @TempDir
    Path dir;

    private RevLog log;
    private long index;

    @BeforeEach
    void open() {
        log = RevLog.open(new RevLogConfig().dataDir(dir).mapSizeBytes(16L << 20).syncOnCommit(false));
        index = log.appliedIndex();
    }

    @AfterEach
    void close() {
        log.close();
    }

    private ApplyResult apply(InternalRequest req) {
        List<ApplyResult> r = log.apply(List.of(new LogEntry(++index, req)));
        assertEquals(1, r.size());
        assertNull(r.get(0).error());
        return r.get(0);
    }

    private ApplyResult apply(PutRequest p) {
        return apply(InternalRequest.newBuilder().setPut(p).build());
    }

    @Test
    void aPutsEventGetsPrevKvWhenAWatcherAsks() {
        apply(grant(7, 60));
        apply(put("a", "v1", 7));
        ApplyResult second = apply(put("a", "v2", 0));
        Event e = second.events().get(0);
        assertFalse(e.hasPrevKv(), "a put reads not the value it replaces");
        KeyValue kv = e.getKv();
        assertEquals(2, kv.getVersion());
        assertEquals(kv.getModRevision() - 1, kv.getCreateRevision());
        assertEquals(0, kv.getLease());
        assertTrue(log.lessor().timeToLive(7, true).orElseThrow().keys().isEmpty(), "the key left its old lease");
        Event withPrev = log.withPrevKv(List.of(e)).get(0);
        assertEquals("v1", withPrev.getPrevKv().getValue().toStringUtf8());
        assertEquals(7, withPrev.getPrevKv().getLease());
        assertEquals(kv, withPrev.getKv());

        // asked for prev_kv, the put reads it, and its event carries it
        ApplyResult third = apply(put("a", "v3", 0).toBuilder().setPrevKv(true).build());
        assertEquals("v2", ((PutResponse) third.response()).getPrevKv().getValue().toStringUtf8());
        assertEquals("v2", third.events().get(0).getPrevKv().getValue().toStringUtf8());

        // a create has none to read; once compacted, the value before is gone and so is prev_kv
        Event create = apply(put("b", "v1", 0)).events().get(0);
        assertSame(create, log.withPrevKv(List.of(create)).get(0));
        apply(InternalRequest.newBuilder().setCompaction(
                CompactionRequest.newBuilder().setRevision(log.currentRevision())).build());
        assertFalse(log.withPrevKv(List.of(e)).get(0).hasPrevKv());

        // rebuilt from the store after a restart: the key is live at version 3, created by v1
        log.close();
        open();
        KeyValue fourth = apply(put("a", "v4", 0)).events().get(0).getKv();
        assertEquals(4, fourth.getVersion());
        assertEquals(kv.getCreateRevision(), fourth.getCreateRevision());
        apply(InternalRequest.newBuilder().setDeleteRange(
                DeleteRangeRequest.newBuilder().setKey(bytes("a"))).build());
        KeyValue recreated = apply(put("a", "v5", 0)).events().get(0).getKv();
        assertEquals(1, recreated.getVersion());
        assertEquals(recreated.getModRevision(), recreated.getCreateRevision());
    }
}
