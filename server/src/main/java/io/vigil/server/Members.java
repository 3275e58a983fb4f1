package io.vigil.server;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The initial members of a cluster, from etcd's {@code --initial-cluster} and
 * {@code --initial-cluster-token}, with ids derived exactly as etcd derives them, so a member
 * list reads the same as an etcd cluster started with the same flags:
 * <ul>
 *   <li>member id: the first 8 bytes (big-endian) of SHA-1 over the member's peer URLs, sorted
 *       and concatenated, followed by the cluster token;</li>
 *   <li>cluster id: the first 8 bytes of SHA-1 over the sorted member ids, 8 bytes each.</li>
 * </ul>
 */
record Members(long clusterId, Map<Long, Member> byId) {
    /** One member: its name and peer URLs as given, and its id. */
    record Member(long id, String name, List<URI> peerUrls) {
    }

    /**
     * Parses {@code name=url,name=url,...}; a name given twice has several peer URLs.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static Members parse(String initialCluster, String token) {
        Map<String, List<URI>> urlsByName = new LinkedHashMap<>();
        for (String part : initialCluster.split(",")) {
            String p = part.trim();
            int eq = p.indexOf('=');
            if (eq <= 0 || eq == p.length() - 1) {
                throw new IllegalArgumentException("\"" + p + "\" is not name=http://host:port");
            }
            urlsByName.computeIfAbsent(p.substring(0, eq).trim(), n -> new ArrayList<>())
                    .addAll(Urls.parse(p.substring(eq + 1).trim()));
        }
        Map<Long, Member> byId = new TreeMap<>(Long::compareUnsigned);
        Map<URI, String> nameByUrl = new LinkedHashMap<>();
        for (Map.Entry<String, List<URI>> e : urlsByName.entrySet()) {
            for (URI u : e.getValue()) {
                String other = nameByUrl.put(u, e.getKey());
                if (other != null && !other.equals(e.getKey())) {
                    throw new IllegalArgumentException("peer URL " + u + " is given for both " + other + " and " + e.getKey());
                }
            }
            long id = memberId(e.getValue(), token);
            if (byId.put(id, new Member(id, e.getKey(), List.copyOf(e.getValue()))) != null) {
                throw new IllegalArgumentException("two members have the same peer URLs " + e.getValue());
            }
        }
        return new Members(clusterId(byId.keySet()), Collections.unmodifiableMap(byId));
    }

    /** etcd's computeMemberId for a member of a new cluster (no timestamp). */
    static long memberId(List<URI> peerUrls, String token) {
        List<String> urls = new ArrayList<>();
        for (URI u : peerUrls) {
            urls.add(u.toString());
        }
        Collections.sort(urls);
        return first8(sha1((String.join("", urls) + token).getBytes(StandardCharsets.UTF_8)));
    }

    /** etcd's RaftCluster.genID: over the member ids in ascending order. */
    static long clusterId(Iterable<Long> memberIds) {
        List<Long> sorted = new ArrayList<>();
        memberIds.forEach(sorted::add);
        sorted.sort(Long::compareUnsigned);
        ByteBuffer b = ByteBuffer.allocate(8 * sorted.size());
        sorted.forEach(b::putLong);
        return first8(sha1(b.array()));
    }

    /** The member named {@code name}, or an error saying that it is missing. */
    Member named(String name) {
        for (Member m : byId.values()) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("this member's name \"" + name + "\" is not in --initial-cluster "
                + names());
    }

    List<String> names() {
        List<String> out = new ArrayList<>();
        byId.values().forEach(m -> out.add(m.name()));
        return out;
    }

    private static long first8(byte[] hash) {
        return ByteBuffer.wrap(hash, 0, 8).getLong();
    }

    private static byte[] sha1(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is part of every Java runtime", e);
        }
    }
}
