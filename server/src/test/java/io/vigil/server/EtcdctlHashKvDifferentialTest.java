package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code etcdctl endpoint hashkv} against a real etcd 3.4 and Vigil, after the same writes and
 * compaction: the same output (header, compact revision), the same errors for a future and a
 * compacted revision, everything but the hash itself, whose bytes differ by design (etcd hashes
 * bbolt's records; see RevLog#hashKv).
 */
class EtcdctlHashKvDifferentialTest {
    @TempDir
    Path tmp;

    private static final List<List<String>> WRITES = List.of(
            List.of("put", "a", "1"),
            List.of("put", "b", "1"),
            List.of("put", "a", "2"),
            List.of("del", "b"),
            List.of("compaction", "3"),
            List.of("put", "c", "1"));

    private static final List<List<String>> HASHKV = List.of(
            List.of("endpoint", "hashkv"),
            List.of("endpoint", "hashkv", "-w", "json"),
            List.of("endpoint", "hashkv", "--rev=4", "-w", "json"),
            List.of("endpoint", "hashkv", "--rev=6", "-w", "json"),
            List.of("endpoint", "hashkv", "--rev=7"),
            List.of("endpoint", "hashkv", "--rev=100"),
            List.of("endpoint", "hashkv", "--rev=3"),
            List.of("endpoint", "hashkv", "--rev=2"));

    @Test
    void hashKvAnswersAsRealEtcdDoes() throws Exception {
        BothServers.Results<Map<String, String>> results = BothServers.run(tmp, EtcdctlHashKvDifferentialTest::session);
        assertEquals(results.etcd(), results.vigil());
    }

    private static Map<String, String> session(String endpoint) {
        for (List<String> w : WRITES) {
            Etcdctl.run(endpoint, null, w.toArray(String[]::new));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (List<String> h : HASHKV) {
            out.put(String.join(" ", h), Etcdctl.run(endpoint, null, h.toArray(String[]::new)).normalized()
                    .replace(endpoint, "ENDPOINT")
                    .replaceAll("\"hash\":\\d+", "\"hash\":HASH")
                    .replaceAll("ENDPOINT, \\d+", "ENDPOINT, HASH"));
        }
        return out;
    }
}
