package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.consensus.node.RaftStorage;
import io.vigil.consensus.raft.ConfState;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.HardState;
import io.vigil.consensus.wal.Wal;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchProgressRequest;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import java.util.concurrent.TimeUnit;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On start the WAL's entries after the store's committed index are applied again; a WAL that
 * cannot supply them (it ends below the store, or resumes past the entry after it) stops the
 * start instead of losing acknowledged writes silently.
 */
class WalReplayTest {
    @TempDir
    Path dir;

    private static InternalRequest put(long i) {
        return InternalRequest.newBuilder().setPut(PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8("k" + i)).setValue(ByteString.copyFromUtf8("v" + i))).build();
    }

    private RevLog openStore() {
        return RevLog.open(new RevLogConfig().dataDir(dir).syncOnCommit(false));
    }

    private Wal openWal() {
        return Wal.open(dir.resolve(VigilServer.WAL_DIR));
    }

    /** The default member's identity, as `vigil serve` without cluster flags has it. */
    private static final Members DEFAULT = Members.parse("default=" + ServerConfig.PEER_URL_DEFAULT,
            ServerConfig.INITIAL_CLUSTER_TOKEN_DEFAULT);
    private static final ConfState CONF = new ConfState(DEFAULT.byId().keySet(), Set.of());

    /**
     * The store (laid out as a server's data directory) commits entries 2..committed (entry 1 is
     * the bootstrap snapshot); the WAL holds walFirst..walLast, all committed.
     */
    private void prepare(long committed, long walFirst, long walLast) {
        try (RevLog store = openStore()) {
            List<LogEntry> entries = new ArrayList<>();
            for (long i = 2; i <= committed; i++) {
                entries.add(new LogEntry(i, put(i)));
            }
            if (!entries.isEmpty()) {
                store.apply(entries);
            }
        }
        try (Wal wal = openWal()) {
            List<Entry> records = new ArrayList<>();
            for (long i = walFirst; i <= walLast; i++) {
                records.add(Entry.normal(2, i, put(i).toByteArray()));
            }
            wal.save(new HardState(2, DEFAULT.named("default").id(), walLast), records);
        }
        new MemberIdentity(DEFAULT.clusterId(), DEFAULT.named("default").id(), "default").write(dir);
    }

    private Membership membership() {
        Members.Member m = DEFAULT.named("default");
        return Membership.create(dir, DEFAULT.clusterId(), List.of(new Membership.Member(m.id(), m.peerUrls(), false)));
    }

    private RaftStorage openLog(RevLog store) {
        return RaftStorage.open(dir.resolve(VigilServer.WAL_DIR), CONF, store.committedIndex());
    }

    @Test
    void theEntriesAfterTheCommittedIndexAreAppliedAgain() {
        prepare(5, 2, 11);
        try (RevLog store = openStore(); RaftStorage log = openLog(store)) {
            assertEquals(6, ReplicatedLog.replay(store, membership(), log, 3));
            assertEquals(11, store.committedIndex());
            assertEquals(11, store.currentRevision(), "one revision per put, none twice");
            assertEquals(10, store.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k"))
                    .setRangeEnd(ByteString.copyFromUtf8("l")).setCountOnly(true).build()).getCount());
        }
    }

    @Test
    void aWalMissingTheNextEntryStopsTheStart() {
        prepare(5, 8, 11);
        try (RevLog store = openStore()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> openLog(store));
            assertTrue(e.getMessage().contains("starts at entry 8 but the store has applied only up to 5"), e.getMessage());
            assertEquals(5, store.committedIndex());
        }
    }

    @Test
    void aWalEndingBelowTheStoreStopsTheStart() {
        prepare(5, 2, 4);
        try (RevLog store = openStore()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> openLog(store));
            assertTrue(e.getMessage().contains("ends at 4"), e.getMessage());
        }
    }

    /**
     * A server replays before its watch hub reads the head: progress after the start names the
     * replayed head, and a watch from "now" gets the next write, not the replayed ones.
     */
    @Test
    void aServerWatchingFromNowAfterReplaySeesOnlyNewWrites() throws Exception {
        prepare(5, 2, 11);
        try (VigilProcess vigil = VigilProcess.start(dir)) {
            ManagedChannel channel = NettyChannelBuilder.forAddress(vigil.host(), vigil.port()).usePlaintext().build();
            try {
                CollectingObserver<WatchResponse> watch = new CollectingObserver<>();
                StreamObserver<WatchRequest> requests = WatchGrpc.newStub(channel).watch(watch);
                requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("k")).setRangeEnd(ByteString.copyFromUtf8("l"))).build());
                WatchResponse created = (WatchResponse) watch.received.poll(10, TimeUnit.SECONDS);
                assertTrue(created != null && created.getCreated(), "created: " + created);
                assertEquals(11, created.getHeader().getRevision(), "the head after replaying entries 6..11");
                requests.onNext(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
                WatchResponse progress = (WatchResponse) watch.received.poll(10, TimeUnit.SECONDS);
                assertEquals(11, progress.getHeader().getRevision(), "progress after replay: " + progress);
                long revision = KVGrpc.newBlockingStub(channel).put(PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("k-new")).setValue(ByteString.copyFromUtf8("v")).build())
                        .getHeader().getRevision();
                assertEquals(12, revision);
                WatchResponse next = (WatchResponse) watch.received.poll(10, TimeUnit.SECONDS);
                assertEquals(1, next.getEventsCount(), "only the new write: " + next);
                assertEquals(12, next.getEvents(0).getKv().getModRevision());
                requests.onCompleted();
            } finally {
                channel.shutdownNow();
            }
        }
    }
}
