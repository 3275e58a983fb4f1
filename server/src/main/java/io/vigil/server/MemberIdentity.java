package io.vigil.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Which member of which cluster a data directory belongs to: the file {@code member} beside the
 * store, written once when the member first starts and checked on every start after, so that a
 * data directory is never taken over by another member or cluster (etcd keeps the same in its
 * WAL metadata).
 */
record MemberIdentity(long clusterId, long memberId, String name) {
    static final String FILE = "member";

    /**
     * Checks {@code dataDir} against this identity, or records it when the directory has none.
     *
     * @param fresh whether the store and WAL are empty: a directory with data but no identity is
     *              refused, since whose data it is cannot be told
     * @throws IllegalStateException naming the owner, when the directory belongs to another
     */
    void claim(Path dataDir, boolean fresh) {
        Path file = dataDir.resolve(FILE);
        try {
            if (Files.exists(file)) {
                MemberIdentity found = parse(Files.readString(file, StandardCharsets.UTF_8), file);
                if (found.clusterId != clusterId || found.memberId != memberId) {
                    throw new IllegalStateException(String.format("the data directory %s belongs to member %s (%x) of cluster %x,"
                            + " not to member %s (%x) of cluster %x; refusing to use it", dataDir, found.name,
                            found.memberId, found.clusterId, name, memberId, clusterId));
                }
                return;
            }
            if (!fresh) {
                throw new IllegalStateException("the data directory " + dataDir + " holds data but no " + FILE
                        + " file saying whose it is; refusing to use it (start from an empty --data-dir)");
            }
            Path tmp = dataDir.resolve(FILE + ".tmp");
            Files.writeString(tmp, String.format("cluster-id=%x%nmember-id=%x%nname=%s%n", clusterId, memberId, name),
                    StandardCharsets.UTF_8);
            try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel d = FileChannel.open(dataDir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + file, e);
        }
    }

    private static MemberIdentity parse(String text, Path file) {
        long cluster = 0;
        long member = 0;
        String name = "";
        try {
            for (String line : text.split("\n")) {
                int eq = line.indexOf('=');
                if (eq < 0) {
                    continue;
                }
                String v = line.substring(eq + 1).trim();
                switch (line.substring(0, eq)) {
                    case "cluster-id" -> cluster = Long.parseUnsignedLong(v, 16);
                    case "member-id" -> member = Long.parseUnsignedLong(v, 16);
                    case "name" -> name = v;
                    default -> { }
                }
            }
        } catch (NumberFormatException e) {
            throw new IllegalStateException(file + " is damaged: " + e.getMessage());
        }
        if (cluster == 0 || member == 0) {
            throw new IllegalStateException(file + " is damaged: it lacks the cluster or member id");
        }
        return new MemberIdentity(cluster, member, name);
    }
}
