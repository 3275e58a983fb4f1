package io.vigil.revlog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.lmdbjava.Dbi;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.LmdbException;
import org.lmdbjava.Txn;

/**
 * A store's files while no {@link RevLog} has them open: what the command line's
 * {@code snapshot status}, {@code snapshot restore} and offline {@code defrag} need.
 */
public final class StoreFiles {
    /** LMDB's data file in a store's directory; a snapshot is a copy of it (plus a trailer the server adds). */
    public static final String DATA_FILE = "data.mdb";

    /**
     * What a store file holds at its revision.
     *
     * @param totalKeys records in the revision log: every retained revision of every key,
     *                  deletions included (etcd's "total keys" counts its backend's keys the same way)
     */
    public record Summary(long revision, long compactRevision, long totalKeys, long leases) {
    }

    private StoreFiles() {
    }

    /**
     * Reads a store file read-only without a lock: a {@code data.mdb}, or a snapshot file whose
     * trailing bytes (LMDB never reads past its last page) are not LMDB's.
     *
     * @throws IllegalArgumentException naming why the file is not a Vigil store
     */
    public static Summary summarize(Path file) {
        Env<byte[]> env;
        try {
            env = Env.create(ReusedCopyProxy.PROXY)
                    .setMapSize(Math.max(Files.size(file), 1L << 20))
                    .setMaxDbs(LmdbStore.MAX_DBS)
                    .setMaxReaders(2)
                    .open(file.toFile(), EnvFlags.MDB_NOSUBDIR, EnvFlags.MDB_RDONLY_ENV, EnvFlags.MDB_NOLOCK);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (LmdbException e) {
            throw new IllegalArgumentException(file + " is not a Vigil store: LMDB cannot open it (" + e.getMessage() + ")");
        }
        try (env) {
            Dbi<byte[]> kv;
            Dbi<byte[]> meta;
            Dbi<byte[]> lease;
            try {
                kv = env.openDbi("kv");
                meta = env.openDbi("meta");
                lease = env.openDbi("lease");
            } catch (LmdbException e) {
                throw new IllegalArgumentException(file + " is an LMDB file but not a Vigil store: " + e.getMessage());
            }
            try (Txn<byte[]> txn = env.txnRead()) {
                if (meta.get(txn, LmdbStore.metaKey(LmdbStore.META_STORE_ID)) == null) {
                    throw new IllegalArgumentException(file + " is an LMDB file but not a Vigil store: it has no store id");
                }
                return new Summary(metaLong(meta, txn, LmdbStore.META_CURRENT_REVISION, 1),
                        metaLong(meta, txn, LmdbStore.META_COMPACT_REVISION, -1),
                        kv.stat(txn).entries, lease.stat(txn).entries);
            }
        }
    }

    private static long metaLong(Dbi<byte[]> meta, Txn<byte[]> txn, String name, long absent) {
        byte[] v = meta.get(txn, LmdbStore.metaKey(name));
        return v == null ? absent : LmdbStore.decodeLong(v);
    }

    /**
     * Makes the store in {@code dataDir} (a restored copy of another cluster's store) the store of
     * a member of a new cluster: every key stays at its revision, with its leases, but no Raft
     * entry of the old cluster counts as applied (the new cluster's log starts at index 1), and
     * the store gets an id of its own.
     */
    public static void prepareRestored(Path dataDir) {
        long size;
        try {
            size = Files.size(dataDir.resolve(DATA_FILE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dataDir.resolve(DATA_FILE), e);
        }
        try (LmdbStore store = new LmdbStore(dataDir, Math.max(2 * size, 1L << 30), 2, true);
             Txn<byte[]> txn = store.env.txnWrite()) {
            store.putMeta(txn, LmdbStore.META_APPLIED_INDEX, 0);
            store.putMeta(txn, LmdbStore.META_STORE_ID, new SecureRandom().nextLong() & Long.MAX_VALUE);
            txn.commit();
        }
    }

    /** Data file sizes before and after a defragmentation. */
    public record Defragmented(long bytesBefore, long bytesAfter) {
    }

    /**
     * Defragments the store in {@code dataDir} while no process has it open (it takes the store's
     * lock, so a running member makes this fail): the space compactions freed goes back to the
     * file system. See {@link LmdbStore#swapIn} for why a crash meanwhile loses nothing.
     */
    public static Defragmented defragment(Path dataDir) {
        Path file = dataDir.resolve(DATA_FILE);
        long before;
        try {
            before = Files.size(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("no Vigil store in " + dataDir + " (" + file + " cannot be read)");
        }
        LmdbStore store = new LmdbStore(dataDir, Math.max(2 * before, 1L << 30), 2, true);
        Path copy;
        try {
            copy = store.writeCompactedCopy();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        store.swapIn(copy).close();
        try {
            return new Defragmented(before, Files.size(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
