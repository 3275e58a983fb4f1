package io.vigil.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.Checksum;

/**
 * The format of a backup ({@code etcdctl snapshot save}), as etcd lays out its own: the store's
 * data file (a compacted LMDB copy, whole pages) followed by the SHA-256 of those bytes. A file
 * whose size is 32 more than a multiple of 512 carries the digest (etcd's test for it; LMDB's
 * pages are multiples of 512), and a backup is refused when the digest does not match, so a
 * truncated or damaged file is never restored.
 */
final class BackupFile {
    static final int DIGEST_BYTES = 32;

    private BackupFile() {
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    /**
     * Reads a backup's data part once, writing it to {@code out} and feeding {@code also} (when not
     * null), and checks its digest; returns the data's length. What was written is the store
     * only when this returns: the caller discards it when it throws.
     *
     * @param skipHashCheck accept a file without a digest (e.g. a store's own data.mdb), as etcd's
     *                      {@code --skip-hash-check}; a digest that is present is still checked
     * @throws IllegalArgumentException naming the problem
     */
    static long readData(Path file, boolean skipHashCheck, OutputStream out, Checksum also) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read snapshot " + file + ": " + e.getMessage());
        }
        boolean hasDigest = size % 512 == DIGEST_BYTES;
        if (!hasDigest && !skipHashCheck) {
            throw new IllegalArgumentException("snapshot " + file + " has no SHA-256 digest at its end (" + size
                    + " bytes is not a whole number of pages plus 32): it is truncated, or not a snapshot"
                    + " (use --skip-hash-check for a store's own data file)");
        }
        long length = hasDigest ? size - DIGEST_BYTES : size;
        MessageDigest sha = sha256();
        byte[] stored = new byte[DIGEST_BYTES];
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (long left = length; left > 0; ) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new IllegalArgumentException("snapshot " + file + " changed while it was read");
                }
                sha.update(buf, 0, n);
                if (also != null) {
                    also.update(buf, 0, n);
                }
                out.write(buf, 0, n);
                left -= n;
            }
            if (hasDigest && in.readNBytes(stored, 0, DIGEST_BYTES) != DIGEST_BYTES) {
                throw new IllegalArgumentException("snapshot " + file + " changed while it was read");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read snapshot " + file, e);
        }
        byte[] actual = sha.digest();
        if (hasDigest && !MessageDigest.isEqual(stored, actual)) {
            throw new IllegalArgumentException("snapshot " + file + " is damaged or truncated: its data has SHA-256 "
                    + HexFormat.of().formatHex(actual) + " but the file says " + HexFormat.of().formatHex(stored));
        }
        return length;
    }
}
