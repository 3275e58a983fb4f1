package io.vigil.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.testkit.LocalServer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** Reads, writes, the transaction builder and errors, against Vigil and a real etcd alike. */
class KvTest {
    static final List<String> SERVERS = Servers.NAMES;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @FieldSource("SERVERS")
    void readsWritesAndTransactions(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server)) {
            Kv kv = client.kv();
            long r1 = kv.put("app/a", "1").revision();
            kv.put("app/b", "2");
            kv.put("other", "x");
            assertEquals("1", kv.get("app/a").value());
            assertNull(kv.get("app/none"));
            OpResult.Get all = kv.getPrefix("app/");
            assertEquals(List.of("app/a", "app/b"), all.kvs().stream().map(KeyValue::key).toList());
            assertEquals(r1 + 2, all.revision());
            OpResult.Get limited = kv.get(Op.getPrefix("app/").limit(1).serializable());
            assertEquals(1, limited.kvs().size());
            assertEquals(2, limited.count());
            assertTrue(limited.more());
            assertEquals("1", kv.get(Op.get("app/a").atRevision(r1)).single().value());

            OpResult.Put replaced = kv.put(Op.put("app/a", "one").prevKv());
            assertEquals("1", replaced.previous().value());

            // compare-and-swap on the revision seen: the first wins, the second sees the new value
            long seen = kv.get("app/b").modRevision();
            OpResult.Txn won = kv.txn().when(Compare.modRevision("app/b").equalTo(seen))
                    .then(Op.put("app/b", "mine")).orElse(Op.get("app/b")).commit();
            assertTrue(won.succeeded());
            OpResult.Txn lost = kv.txn().when(Compare.modRevision("app/b").equalTo(seen))
                    .then(Op.put("app/b", "theirs")).orElse(Op.get("app/b")).commit();
            assertFalse(lost.succeeded());
            assertEquals("mine", ((OpResult.Get) lost.results().get(0)).single().value());
            OpResult.Txn create = kv.txn().when(Compare.version("app/new").equalTo(0))
                    .then(Op.put("app/new", "created"), Op.get("app/new")).commit();
            assertEquals("created", ((OpResult.Get) create.results().get(1)).single().value());

            OpResult.Delete deleted = kv.delete(Op.deletePrefix("app/").prevKv());
            assertEquals(3, deleted.deleted());
            assertEquals(3, deleted.previous().size());
            assertEquals(0, kv.getPrefix("app/").count());
        }
    }

    @ParameterizedTest
    @FieldSource("SERVERS")
    void errorsCarryEtcdsCodeAndMessage(String name) {
        try (LocalServer server = Servers.start(name, tmp); VigilClient client = Servers.client(server)) {
            Kv kv = client.kv();
            kv.put("k", "1");
            long r = kv.put("k", "2").revision();
            kv.compact(r);
            VigilException compacted = assertThrows(VigilException.class, () -> kv.get(Op.get("k").atRevision(r - 1)));
            assertEquals(VigilException.Code.OUT_OF_RANGE, compacted.code());
            assertEquals("etcdserver: mvcc: required revision has been compacted", compacted.getMessage());

            VigilException noLease = assertThrows(VigilException.class, () -> kv.put(Op.put("k", "v").lease(12345)));
            assertEquals(VigilException.Code.NOT_FOUND, noLease.code());
            assertEquals("etcdserver: requested lease not found", noLease.getMessage());
            assertFalse(noLease.outcomeUnknown(), "a refused write certainly did not happen");
            assertEquals("2", kv.get("k").value());
        }
    }
}
