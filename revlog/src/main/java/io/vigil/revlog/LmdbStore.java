package io.vigil.revlog;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.StandardOpenOption;
import java.io.UncheckedIOException;
import com.google.protobuf.InvalidProtocolBufferException;
import io.vigil.proto.internal.LeaseRecord;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import org.lmdbjava.CopyFlags;
import java.util.Map;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.KeyRange;
import org.lmdbjava.Txn;

/**
 * The LMDB environment: database {@code kv} is the revision log (see {@link Records}), database
 * {@code meta} holds the counters that must move atomically with it (applied index, current and
 * compacted revision, store id), database {@code lease} the granted leases (8-byte big-endian ID
 * → {@link LeaseRecord}), {@code alarm} the alarms; the auth store's users and roles are in {@code meta}
 * under prefixed keys ({@link AuthStore}). Every write happens in one write transaction per applied batch;
 * a commit is durable when it returns (LMDB syncs on commit unless syncOnCommit is off).
 */
final class LmdbStore implements AutoCloseable {
    static final String META_APPLIED_INDEX = "appliedIndex";
    static final String META_CURRENT_REVISION = "currentRevision";
    static final String META_COMPACT_REVISION = "compactRevision";
    static final String META_STORE_ID = "storeId";
    /** Named databases an environment may hold: the four here, and room for more. */
    static final int MAX_DBS = 8;

    /** A defragmentation writes its compacted copy here, inside the store's directory, then renames it over the data file. */
    static final String DEFRAG_DIR = "defrag.tmp";
    private static final System.Logger LOG = System.getLogger("vigil");

    final Env<byte[]> env;
    final Dbi<byte[]> kv;
    final Dbi<byte[]> meta;
    final Dbi<byte[]> lease;
    final Dbi<byte[]> alarm;
    private final Path dir;
    private final long mapSizeBytes;
    private final int maxReaders;
    private final boolean syncOnCommit;
    /**
     * LMDB lets several processes open one environment, but the key index lives in this process's
     * memory, so a second writer would silently diverge from it: hold an exclusive lock instead.
     * The kernel drops it when the process dies, SIGKILL included.
     */
    private final FileChannel lockChannel;

    LmdbStore(Path dir, long mapSizeBytes, int maxReaders, boolean syncOnCommit) {
        this(dir, lock(dir), mapSizeBytes, maxReaders, syncOnCommit);
    }

    private LmdbStore(Path dir, FileChannel lockChannel, long mapSizeBytes, int maxReaders, boolean syncOnCommit) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.mapSizeBytes = mapSizeBytes;
        this.maxReaders = maxReaders;
        this.syncOnCommit = syncOnCommit;
        try {
            env = openEnv(dir, mapSizeBytes, maxReaders, syncOnCommit);
            kv = env.openDbi("kv", DbiFlags.MDB_CREATE);
            meta = env.openDbi("meta", DbiFlags.MDB_CREATE);
            lease = env.openDbi("lease", DbiFlags.MDB_CREATE);
            alarm = env.openDbi("alarm", DbiFlags.MDB_CREATE);
        } catch (RuntimeException e) {
            closeQuietly(lockChannel);
            throw e;
        }
    }

    private static FileChannel lock(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data directory " + dir, e);
        }
        FileChannel lockChannel;
        FileLock lock;
        try {
            lockChannel = FileChannel.open(dir.resolve("vigil.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock data directory " + dir, e);
        }
        try {
            lock = lockChannel.tryLock();
        } catch (IOException | OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            closeQuietly(lockChannel);
            throw new IllegalStateException("data directory " + dir + " is in use by another Vigil process");
        }
        try {
            deleteInterruptedDefrag(dir);
        } catch (RuntimeException e) {
            closeQuietly(lockChannel);
            throw e;
        }
        return lockChannel;
    }

    /**
     * Writes a compacted copy of the store as committed (LMDB's copy skips free pages) beside it,
     * synced, and returns its path for {@link #swapIn}. Reads and the copy may run together.
     */
    Path writeCompactedCopy() {
        Path tmp = dir.resolve(DEFRAG_DIR);
        Path copy = tmp.resolve(StoreFiles.DATA_FILE);
        try {
            deleteTree(tmp);
            Files.createDirectories(tmp);
            env.copy(tmp.toFile(), CopyFlags.MDB_CP_COMPACT);
            try (FileChannel c = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                c.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a compacted copy of the store in " + dir, e);
        }
        return copy;
    }

    /**
     * Makes {@code copy} the data file: it is renamed over {@code data.mdb}, then the directory is
     * synced, so a crash at any point leaves the old file or the whole new one. Returns the store
     * over the new file, holding the same directory lock; this one is closed. The caller makes
     * sure nothing was written since the copy and no read transaction of this store is open.
     */
    LmdbStore swapIn(Path copy) {
        env.close();
        try {
            Files.move(copy, dir.resolve(StoreFiles.DATA_FILE), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            deleteTree(copy.getParent());
        } catch (IOException e) {
            // the old file is in place, or the whole new one: either is the store
            LOG.log(System.Logger.Level.WARNING, "defragmentation of " + dir + " did not finish cleanly: " + e);
        }
        return new LmdbStore(dir, lockChannel, mapSizeBytes, maxReaders, syncOnCommit);
    }

    /** Removes what a defragmentation that a crash interrupted left behind (the data file itself is whole). */
    static void deleteInterruptedDefrag(Path dir) {
        try {
            deleteTree(dir.resolve(DEFRAG_DIR));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir.resolve(DEFRAG_DIR), e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var paths = Files.walk(p)) {
            for (Path q : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    /** The data file's size: what the store takes on disk, free pages included (etcd's db size). */
    long fileBytes() {
        org.lmdbjava.EnvInfo info = env.info();
        return (info.lastPageNumber + 1) * (long) env.stat().pageSize;
    }

    /** Bytes in the pages the databases use now (etcd's db size in use); free pages are not counted. */
    long bytesInUse(Txn<byte[]> txn) {
        long pages = 2; // LMDB's two meta pages
        org.lmdbjava.Stat main = env.stat();
        pages += main.branchPages + main.leafPages + main.overflowPages;
        for (Dbi<byte[]> d : List.of(kv, meta, lease, alarm)) {
            org.lmdbjava.Stat st = d.stat(txn);
            pages += st.branchPages + st.leafPages + st.overflowPages;
        }
        return pages * main.pageSize;
    }

    private static Env<byte[]> openEnv(Path dir, long mapSizeBytes, int maxReaders, boolean syncOnCommit) {
        return Env.create(ReusedCopyProxy.PROXY)
                .setMapSize(mapSizeBytes)
                .setMaxDbs(MAX_DBS)
                .setMaxReaders(maxReaders)
                // NOTLS: read transactions are not tied to the thread that opened them.
                .open(dir.toFile(), syncOnCommit
                        ? new EnvFlags[] {EnvFlags.MDB_NOTLS}
                        : new EnvFlags[] {EnvFlags.MDB_NOTLS, EnvFlags.MDB_NOSYNC});
    }

    long getMeta(Txn<byte[]> txn, String name, long absent) {
        byte[] v = meta.get(txn, metaKey(name));
        return v == null ? absent : decodeLong(v);
    }

    /** A meta value: a big-endian long. */
    static long decodeLong(byte[] v) {
        long x = 0;
        for (byte b : v) {
            x = (x << 8) | (b & 0xff);
        }
        return x;
    }

    void putMeta(Txn<byte[]> txn, String name, long value) {
        byte[] v = new byte[8];
        for (int i = 0; i < 8; i++) {
            v[i] = (byte) (value >>> (56 - 8 * i));
        }
        meta.put(txn, metaKey(name), v);
    }

    static byte[] metaKey(String name) {
        return name.getBytes(StandardCharsets.US_ASCII);
    }

    /** Writes a lease's record; {@code remainingTtl} 0 means none recorded (the field is then left out). */
    void putLease(Txn<byte[]> txn, long id, long ttlSeconds, long remainingTtl) {
        lease.put(txn, leaseKey(id), LeaseRecord.newBuilder().setID(id).setTTL(ttlSeconds)
                .setRemainingTTL(remainingTtl).build().toByteArray());
    }

    void deleteLease(Txn<byte[]> txn, long id) {
        lease.delete(txn, leaseKey(id));
    }

    /** Every stored lease by ID (granted TTL and checkpointed remaining TTL, in seconds). */
    Map<Long, LeaseRecord> loadLeases(Txn<byte[]> txn) {
        Map<Long, LeaseRecord> out = new HashMap<>();
        try (CursorIterable<byte[]> all = lease.iterate(txn, KeyRange.all())) {
            for (CursorIterable.KeyVal<byte[]> r : all) {
                try {
                    LeaseRecord rec = LeaseRecord.parseFrom(r.val());
                    out.put(rec.getID(), rec);
                } catch (InvalidProtocolBufferException e) {
                    throw new IllegalStateException("corrupt lease record", e);
                }
            }
        }
        return out;
    }

    private static byte[] leaseKey(long id) {
        byte[] k = new byte[8];
        for (int i = 0; i < 8; i++) {
            k[i] = (byte) (id >>> (56 - 8 * i));
        }
        return k;
    }

    byte[] getRecord(Txn<byte[]> txn, long main, int sub) {
        byte[] r = kv.get(txn, Records.revisionKey(main, sub));
        if (r == null) {
            throw new MissingRecordException(main, sub);
        }
        return r;
    }

    /**
     * The index named a revision the log does not hold. For a reader this means a compaction
     * removed it after the reader looked it up (the reader retries); for the writer it is corruption.
     */
    static final class MissingRecordException extends IllegalStateException {
        MissingRecordException(long main, int sub) {
            super("revision " + main + "." + sub + " is in the index but not in the log");
        }
    }

    @Override
    public void close() {
        env.close();
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing releases the lock; nothing else is at stake
        }
    }
}
