package io.vigil.server;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.vigil.consensus.node.RaftNode;
import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.HardState;
import io.vigil.consensus.raft.Message;
import io.vigil.consensus.wal.Wal;
import io.vigil.proto.internal.SnapshotAck;
import io.vigil.proto.internal.SnapshotChunk;
import io.vigil.proto.internal.SnapshotHeader;
import io.vigil.proto.internal.SnapshotPeerGrpc;
import io.vigil.revlog.RevLog;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * Snapshots of the store, for followers that the leader's log no longer reaches (it keeps at most
 * {@code --snapshot-count} + catch-up entries below the store's applied index, and only the
 * catch-up entries below what every follower it tracks holds, so a member added later starts from
 * a snapshot unless it joins within those): etcd's snapshot transfer.
 *
 * <p>Sending (the leader): when the core asks for a snapshot for a follower, a copy of the store
 * as committed is made (LMDB's compacting copy, in one read transaction), and streamed to the
 * follower's peer URL in chunks ({@code vigil.SnapshotPeer}) behind a header with its index (the
 * store copy's applied index, which may be newer than what the core asked for), that entry's
 * term, and the membership as of that index; then the core is told whether it arrived. One
 * snapshot at a time per follower.
 *
 * <p>Receiving (a follower): the copy is written to {@code snapshot.incoming} beside the store;
 * once whole (size and CRC-32C checked, synced), the header is written there durably, which makes
 * it staged, and the member restarts. At start, before the store opens, a staged snapshot is
 * installed ({@link #installStaged}): the copy replaces the store, its membership replaces the
 * membership, and the WAL is made anew to start at the snapshot's index (keeping the term and
 * vote). Every step can be done again, so a crash during the install finishes it on the next
 * start. The member then starts as a member whose log begins at the snapshot, and the leader
 * sends the entries after it.
 */
final class Snapshots implements AutoCloseable {
    static final String INCOMING = "snapshot.incoming";
    static final String OUTGOING = "snapshot.outgoing";
    private static final String HEADER = "header";
    private static final String STORE_FILE = "data.mdb";
    static final int CHUNK_BYTES = 1 << 20;
    /** How long a leader waits for a follower to take a whole snapshot. */
    static final long SEND_TIMEOUT_MS = TimeUnit.MINUTES.toMillis(10);

    private final Path dataDir;
    private final RevLog revLog;
    private final Membership membership;
    private final long clusterId;
    private final long selfId;
    private final PeerChannels peers;
    private final Supplier<RaftNode> node;
    private final Runnable onStaged;
    private final ExecutorService sender = Executors.newSingleThreadExecutor(DaemonThreads.named("vigil-snapshot-send"));
    private final Set<Long> sending = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean receiving = new AtomicBoolean();

    /** @param onStaged told once a received snapshot is staged: the member must restart to install it */
    Snapshots(Path dataDir, RevLog revLog, Membership membership, long clusterId, long selfId, PeerChannels peers,
              Supplier<RaftNode> node, Runnable onStaged) {
        this.dataDir = dataDir;
        this.revLog = revLog;
        this.membership = membership;
        this.clusterId = clusterId;
        this.selfId = selfId;
        this.peers = peers;
        this.node = node;
        this.onStaged = onStaged;
    }

    /** Node thread: the core asks for a snapshot for {@code snap.to()}; the outcome is reported to it later. */
    void send(Message snap) {
        if (!sending.add(snap.to())) {
            return; // the one under way reports
        }
        sender.execute(() -> {
            long delivered = 0;
            try {
                delivered = sendNow(snap);
            } catch (Exception e) {
                VigilServer.LOG.log(System.Logger.Level.WARNING, String.format("snapshot for member %x failed: %s",
                        snap.to(), e));
            } finally {
                sending.remove(snap.to());
                node.get().reportSnapshot(snap.to(), delivered > 0, delivered);
            }
        });
    }

    /**
     * The index of the snapshot the follower took (its store's applied index, newer than the
     * core's snapshot index: the core must probe from after it), or 0 when it did not.
     */
    private long sendNow(Message snap) throws Exception {
        ManagedChannel channel = peers.to(snap.to());
        if (channel == null) {
            return 0;
        }
        Path dir = dataDir.resolve(OUTGOING).resolve(Long.toHexString(snap.to()));
        DurableFile.deleteTree(dir);
        try {
            long index = revLog.copyTo(dir);
            long indexTerm = node.get().termAt(index).get(30, TimeUnit.SECONDS);
            Path file = dir.resolve(STORE_FILE);
            long size = Files.size(file);
            SnapshotHeader header = SnapshotHeader.newBuilder().setClusterId(clusterId).setFrom(selfId).setTo(snap.to())
                    .setTerm(snap.term()).setIndex(index).setIndexTerm(indexTerm)
                    .setMembership(membership.historyAt(index)).setSize(size).build();
            VigilServer.LOG.log(System.Logger.Level.INFO, String.format(
                    "sending a snapshot at index %d (%d bytes) to member %x", index, size, snap.to()));
            SnapshotAck ack = stream(channel, header, file);
            if (!ack.getAccepted()) {
                VigilServer.LOG.log(System.Logger.Level.WARNING, String.format("member %x refused the snapshot: %s",
                        snap.to(), ack.getReason()));
            }
            return ack.getAccepted() ? index : 0;
        } finally {
            DurableFile.deleteTree(dir);
        }
    }

    /** Streams the header, the file in chunks as fast as the follower takes them, then the CRC; returns its answer. */
    private static SnapshotAck stream(ManagedChannel channel, SnapshotHeader header, Path file) throws Exception {
        CompletableFuture<SnapshotAck> answer = new CompletableFuture<>();
        Object ready = new Object();
        ClientResponseObserver<SnapshotChunk, SnapshotAck> observer = new ClientResponseObserver<>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<SnapshotChunk> requests) {
                requests.setOnReadyHandler(() -> {
                    synchronized (ready) {
                        ready.notifyAll();
                    }
                });
            }

            @Override
            public void onNext(SnapshotAck ack) {
                answer.complete(ack);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                answer.completeExceptionally(new IllegalStateException("the follower ended the stream without an answer"));
            }
        };
        ClientCallStreamObserver<SnapshotChunk> out = (ClientCallStreamObserver<SnapshotChunk>) SnapshotPeerGrpc
                .newStub(channel).withDeadlineAfter(SEND_TIMEOUT_MS, TimeUnit.MILLISECONDS).install(observer);
        out.onNext(SnapshotChunk.newBuilder().setHeader(header).build());
        CRC32C crc = new CRC32C();
        byte[] buf = new byte[CHUNK_BYTES];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.readNBytes(buf, 0, buf.length); n > 0; n = in.readNBytes(buf, 0, buf.length)) {
                synchronized (ready) {
                    while (!out.isReady() && !answer.isDone()) {
                        ready.wait(100);
                    }
                }
                if (answer.isDone()) {
                    break; // refused or failed: its answer says why
                }
                crc.update(buf, 0, n);
                out.onNext(SnapshotChunk.newBuilder().setData(ByteString.copyFrom(buf, 0, n)).build());
            }
        }
        if (!answer.isDone()) {
            out.onNext(SnapshotChunk.newBuilder().setCrc32C((int) crc.getValue()).build());
            out.onCompleted();
        }
        return answer.get(SEND_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    /** The follower's half, on the peer URL. */
    final class Receiver extends SnapshotPeerGrpc.SnapshotPeerImplBase {
        @Override
        public StreamObserver<SnapshotChunk> install(StreamObserver<SnapshotAck> out) {
            return new StreamObserver<>() {
                private SnapshotHeader header;
                private FileChannel file;
                private final CRC32C crc = new CRC32C();
                private long received;
                private boolean finished;

                @Override
                public void onNext(SnapshotChunk chunk) {
                    if (finished) {
                        return;
                    }
                    try {
                        if (header == null) {
                            start(chunk);
                        } else if (chunk.hasData()) {
                            ByteBuffer data = chunk.getData().asReadOnlyByteBuffer();
                            received += data.remaining();
                            if (received > header.getSize()) {
                                answer(false, "more data than the " + header.getSize() + " bytes announced");
                                return;
                            }
                            crc.update(data.duplicate());
                            while (data.hasRemaining()) {
                                file.write(data);
                            }
                        } else {
                            complete(chunk.getCrc32C());
                        }
                    } catch (IOException e) {
                        answer(false, "cannot write the snapshot: " + e.getMessage());
                    }
                }

                private void start(SnapshotChunk chunk) throws IOException {
                    if (!chunk.hasHeader()) {
                        answer(false, "a snapshot must start with its header");
                        return;
                    }
                    SnapshotHeader h = chunk.getHeader();
                    if (h.getClusterId() != clusterId || h.getTo() != selfId) {
                        answer(false, String.format("a snapshot for member %x of cluster %x reached member %x of cluster %x",
                                h.getTo(), h.getClusterId(), selfId, clusterId));
                        return;
                    }
                    if (h.getIndex() <= revLog.committedIndex()) {
                        // nothing to install: the leader learns this member's index from its next answer
                        answer(true, "this member has applied up to " + revLog.committedIndex() + " already");
                        return;
                    }
                    if (!receiving.compareAndSet(false, true)) {
                        answer(false, "another snapshot is being received");
                        return;
                    }
                    header = h;
                    Path dir = dataDir.resolve(INCOMING);
                    DurableFile.deleteTree(dir);
                    Files.createDirectories(dir);
                    file = FileChannel.open(dir.resolve(STORE_FILE), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                }

                private void complete(int expectedCrc) throws IOException {
                    if (received != header.getSize() || (int) crc.getValue() != expectedCrc) {
                        answer(false, "the snapshot arrived damaged: " + received + " of " + header.getSize()
                                + " bytes, or a CRC mismatch");
                        return;
                    }
                    file.force(true);
                    file.close();
                    file = null;
                    // the header makes it staged: written last, durably
                    DurableFile.write(dataDir.resolve(INCOMING).resolve(HEADER), header.toByteArray());
                    VigilServer.LOG.log(System.Logger.Level.INFO, String.format(
                            "received a snapshot at index %d from member %x; restarting to install it",
                            header.getIndex(), header.getFrom()));
                    answer(true, "");
                    onStaged.run();
                }

                /** Answers the leader; a staged snapshot keeps others out until the member restarts. */
                private void answer(boolean accepted, String reason) {
                    finished = true;
                    if (!accepted) {
                        release();
                    }
                    out.onNext(SnapshotAck.newBuilder().setAccepted(accepted).setReason(reason).build());
                    out.onCompleted();
                }

                /** Gives up the receive under way, deleting what was written. */
                private void release() {
                    if (header == null) {
                        return;
                    }
                    try {
                        if (file != null) {
                            file.close();
                        }
                    } catch (IOException ignored) {
                        // it is deleted below
                    }
                    DurableFile.deleteTree(dataDir.resolve(INCOMING));
                    receiving.set(false);
                }

                @Override
                public void onError(Throwable t) {
                    if (!finished) {
                        finished = true;
                        release();
                    }
                }

                @Override
                public void onCompleted() {
                    if (!finished) {
                        answer(false, "the stream ended before the snapshot did");
                    }
                }
            };
        }
    }

    /**
     * At start, before the store opens: installs the snapshot the previous run staged, if any (a
     * receive that did not complete is discarded). Returns the installed snapshot's index, or 0.
     */
    static long installStaged(Path dataDir, Path walDir) {
        Path incoming = dataDir.resolve(INCOMING);
        Path headerFile = incoming.resolve(HEADER);
        DurableFile.deleteTree(dataDir.resolve(OUTGOING));
        if (!Files.exists(headerFile)) {
            DurableFile.deleteTree(incoming);
            return 0;
        }
        SnapshotHeader h;
        try {
            h = SnapshotHeader.parseFrom(Files.readAllBytes(headerFile));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the staged snapshot " + headerFile, e);
        }
        Path copy = incoming.resolve(STORE_FILE);
        if (Files.exists(copy)) {
            try {
                Files.deleteIfExists(dataDir.resolve("lock.mdb"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot replace the store in " + dataDir, e);
            }
            DurableFile.rename(copy, dataDir.resolve(STORE_FILE));
        }
        Membership.install(dataDir, h.getMembership());
        Path made = walDir.resolveSibling(walDir.getFileName() + ".installed");
        if (!Files.exists(made)) {
            HardState before = HardState.EMPTY;
            if (Files.exists(walDir)) {
                try (Wal old = Wal.open(walDir)) {
                    before = old.hardState();
                }
            }
            boolean sameTerm = before.term() >= h.getTerm();
            HardState state = new HardState(Math.max(before.term(), h.getTerm()), sameTerm ? before.vote() : 0, h.getIndex());
            Path building = walDir.resolveSibling(walDir.getFileName() + ".snapshot");
            DurableFile.deleteTree(building);
            try (Wal wal = Wal.open(building)) {
                // the snapshot's entry stands in for the snapshot, as the first retained entry does
                wal.save(state, List.of(Entry.normal(h.getIndexTerm(), h.getIndex(), null)));
            }
            DurableFile.rename(building, made);
        }
        DurableFile.deleteTree(walDir);
        DurableFile.rename(made, walDir);
        DurableFile.deleteTree(incoming);
        VigilServer.LOG.log(System.Logger.Level.INFO, String.format("installed the snapshot at index %d from member %x",
                h.getIndex(), h.getFrom()));
        return h.getIndex();
    }

    @Override
    public void close() {
        sender.shutdownNow();
    }
}
