package io.vigil.server;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.SnapshotResponse;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.StoreFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One {@code Maintenance.Snapshot} call: a consistent copy of the store (LMDB's compacting copy,
 * one read transaction, so the member keeps serving and applying meanwhile), holding at least
 * every write applied before the call, is made in a
 * directory of its own, then streamed in chunks as the client takes them (gRPC flow control: at
 * most a few chunks are buffered, whatever the store's size), then its SHA-256 as the last
 * message, as etcd ends its snapshot stream ({@link BackupFile}). The copy is deleted when the
 * call ends, however it ends.
 */
final class BackupStream {
    /** Where the copies being streamed live, inside the data directory; emptied at start. */
    static final String DIR = "snapshot.save";
    private static final AtomicLong NEXT = new AtomicLong();

    private final ServerCallStreamObserver<SnapshotResponse> out;
    private ResponseHeader header;
    private final Path dir;
    private final MessageDigest sha = BackupFile.sha256();
    private InputStream in;
    private long total;
    private long sent;
    private boolean done;

    private BackupStream(StreamObserver<SnapshotResponse> out, Path dir) {
        this.out = (ServerCallStreamObserver<SnapshotResponse>) out;
        this.dir = dir;
    }

    /** Starts the copy on {@code copier} (it reads the whole store) and streams it from there on. */
    static void start(ReplicatedLog log, RevLog revLog, ResponseHeaders headers, Path dataDir, Executor copier,
                      StreamObserver<SnapshotResponse> out) {
        BackupStream s = new BackupStream(out, dataDir.resolve(DIR).resolve(Long.toString(NEXT.incrementAndGet())));
        s.out.setOnCancelHandler(s::finish);
        s.out.setOnReadyHandler(s::pump);
        // the copy holds every write applied before the call: the store commits them first
        log.withStoreCommitted(revLog::currentRevision).whenCompleteAsync((revision, failure) -> {
            if (failure != null) {
                s.fail(failure instanceof Exception e ? e : new IllegalStateException(failure));
                return;
            }
            try {
                DurableFile.deleteTree(s.dir);
                ResponseHeader header = headers.at(revision);
                revLog.copyTo(s.dir);
                synchronized (s) {
                    s.header = header;
                    if (s.done) {
                        return; // cancelled while copying
                    }
                    s.in = Files.newInputStream(s.dir.resolve(StoreFiles.DATA_FILE));
                    s.total = Files.size(s.dir.resolve(StoreFiles.DATA_FILE));
                }
                VigilServer.LOG.log(System.Logger.Level.INFO, "sending a snapshot of " + s.total + " bytes to a client");
                s.pump();
            } catch (IOException | RuntimeException e) {
                s.fail(e);
            }
        }, copier);
    }

    /** Sends chunks while the client's stream takes them; gRPC calls it again when it is ready. */
    private synchronized void pump() {
        if (done || in == null) {
            return;
        }
        try {
            while (out.isReady() && !done) {
                if (sent == total) {
                    out.onNext(SnapshotResponse.newBuilder().setHeader(header)
                            .setRemainingBytes(0).setBlob(ByteString.copyFrom(sha.digest())).build());
                    out.onCompleted();
                    finish();
                    return;
                }
                byte[] chunk = in.readNBytes((int) Math.min(Snapshots.CHUNK_BYTES, total - sent));
                if (chunk.length == 0) {
                    throw new IOException("the copy ended " + (total - sent) + " bytes early");
                }
                sha.update(chunk);
                sent += chunk.length;
                out.onNext(SnapshotResponse.newBuilder().setHeader(header)
                        .setRemainingBytes(total - sent).setBlob(ByteString.copyFrom(chunk)).build());
            }
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
    }

    private synchronized void fail(Exception e) {
        if (done) {
            return;
        }
        VigilServer.LOG.log(System.Logger.Level.WARNING, "snapshot for a client failed: " + e);
        try {
            out.onError(EtcdErrors.toStatus(e));
        } catch (RuntimeException alreadyClosed) {
            // the call ended meanwhile
        }
        finish();
    }

    private synchronized void finish() {
        done = true;
        try {
            if (in != null) {
                in.close();
            }
            DurableFile.deleteTree(dir);
        } catch (IOException | RuntimeException e) {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "cannot delete the snapshot copy " + dir + ": " + e);
        }
    }
}
