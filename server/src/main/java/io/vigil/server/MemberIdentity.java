package io.vigil.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which member of which cluster a data directory belongs to: the file {@code member} beside the
 * store, written once when the member first starts and checked on every start after, so that a
 * data directory is never taken over by another member or cluster (etcd keeps the same in its
 * WAL metadata). {@link MemberStart} decides who may use it.
 */
record MemberIdentity(long clusterId, long memberId, String name) {
    static final String FILE = "member";

    /** The identity recorded in {@code dataDir}, or null when it has none. */
    static MemberIdentity read(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        try {
            return Files.exists(file) ? parse(Files.readString(file, StandardCharsets.UTF_8), file) : null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Records this identity in {@code dataDir}, once, when the member first starts there. */
    void write(Path dataDir) {
        DurableFile.write(dataDir.resolve(FILE), String.format("cluster-id=%x%nmember-id=%x%nname=%s%n", clusterId,
                memberId, name).getBytes(StandardCharsets.UTF_8));
    }

    /** The refusal to use {@code dataDir}, which this identity owns, as member {@code name} ({@code id}) of {@code cluster}. */
    IllegalStateException refusal(Path dataDir, String otherName, long otherId, long otherCluster) {
        return new IllegalStateException(String.format("the data directory %s belongs to member %s (%x) of cluster %x,"
                + " not to member %s (%x) of cluster %x; refusing to use it", dataDir, name, memberId, clusterId,
                otherName, otherId, otherCluster));
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
