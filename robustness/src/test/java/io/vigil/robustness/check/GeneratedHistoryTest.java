package io.vigil.robustness.check;

import static io.vigil.robustness.check.Histories.M1;
import static io.vigil.robustness.check.Histories.M2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.robustness.check.Histories.Store;
import io.vigil.robustness.history.History;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Histories of a simulated correct store at the size of a run (thousands of revisions and keys):
 * each operation takes effect at one instant inside its interval, intervals overlap, some
 * outcomes are unknown. They must pass, fast; one injected stale read must be the only finding.
 */
class GeneratedHistoryTest {

    /**
     * Operations over 1000 keys, each taking effect at its own instant inside its interval; two
     * watchers get each revision a little after it was written. With staleAt >= 0, the get at that
     * index answers an old revision, well after newer ones were acknowledged.
     */
    static History generate(long seed, int operations, int staleAt) {
        Random random = new Random(seed);
        Histories h = new Histories();
        Store s = new Store();
        List<Long> writtenAt = new ArrayList<>(); // the instant of each revision from 2 on
        long point = 100;
        int values = 0;
        KeyValue remembered = null;
        long rememberedRevision = 1;
        String rememberedKey = "k0";
        for (int i = 0; i < operations; i++) {
            point += 1 + random.nextInt(3);
            long call = point - random.nextInt(6);
            long ret = point + random.nextInt(6);
            int client = i % 16;
            String key = "k" + random.nextInt(1000);
            long before = s.revision();
            int kind = random.nextInt(100);
            if (i == staleAt) {
                h.get(client, point + 20, point + 21, rememberedKey, rememberedRevision, remembered == null ? new KeyValue[0]
                        : new KeyValue[] {remembered});
            } else if (kind < 35) {
                String value = "v" + values++;
                s.put(key, value);
                h.put(client, call, ret, key, value, s.revision());
            } else if (kind < 60) {
                KeyValue kv = s.get(key);
                h.get(client, call, ret, key, s.revision(), kv == null ? new KeyValue[0] : new KeyValue[] {kv});
                if (i < staleAt - 100 || remembered == null) {
                    remembered = kv;
                    rememberedRevision = s.revision();
                    rememberedKey = key;
                }
            } else if (kind < 68) {
                KeyValue kv = s.get(key);
                if (kv != null) {
                    s.delete(key);
                    h.delete(client, call, ret, key, "", false, s.revision(), kv);
                } else {
                    h.delete(client, call, ret, key, "", false, s.revision());
                }
            } else if (kind < 76) {
                // a compare-and-set on the version, half the time with a stale version
                KeyValue kv = s.get(key);
                long version = kv == null ? 0 : kv.getVersion() - random.nextInt(2);
                String value = "v" + values++;
                TxnRequest txn = TxnRequest.newBuilder().addCompare(Histories.versionEquals(key, version))
                        .addSuccess(Histories.putOp(key, value)).addFailure(Histories.getOp(key)).build();
                if (kv == null ? version == 0 : kv.getVersion() == version) {
                    s.put(key, value);
                    h.txn(client, call, ret, txn, true, s.revision(), Histories.putAnswer());
                } else {
                    h.txn(client, call, ret, txn, false, s.revision(), Histories.getAnswer(kv));
                }
            } else if (kind < 80) {
                String prefix = "k" + random.nextInt(10);
                List<KeyValue> kvs = s.range(prefix, prefix.substring(0, 1) + (char) (prefix.charAt(1) + 1));
                h.range(client, Histories.M1, call, ret, RangeRequest.newBuilder().setKey(Histories.b(prefix))
                        .setRangeEnd(Histories.b(prefix.substring(0, 1) + (char) (prefix.charAt(1) + 1))).build(),
                        s.revision(), kvs.size(), false, kvs.toArray(new KeyValue[0]));
            } else if (kind < 90) {
                KeyValue kv = s.get(key);
                h.serializableGet(client, i % 2 == 0 ? M1 : M2, call, ret, key, s.revision(),
                        kv == null ? new KeyValue[0] : new KeyValue[] {kv});
            } else if (kind < 95) {
                String value = "v" + values++;
                s.put(key, value); // happened, but the client never heard
                h.putUnknown(client, call, ret + 1000, key, value);
            } else {
                h.putUnknown(client, call, ret + 1000, key, "v" + values++); // never happened
            }
            if (s.revision() > before) {
                writtenAt.add(point);
            }
        }
        for (int w = 1; w <= 2; w++) {
            Histories.Watcher watcher = h.watcher(w, w == 1 ? M1 : M2).create(0, 1);
            long received = 0;
            for (int r = 0; r < s.revisions().size(); r++) {
                received = Math.max(received, writtenAt.get(r) + 1 + random.nextInt(20));
                watcher.events(received, s.revisions().get(r).toArray(new Event[0]));
            }
        }
        return h.build();
    }

    @Test
    void correctHistoriesOfManySeedsPass() {
        for (long seed = 1; seed <= 5; seed++) {
            CheckReport report = Checkers.checkAll(generate(seed, 3_000, -1));
            assertTrue(report.ok(), report::summary);
        }
    }

    @Test
    void aLargeCorrectHistoryPasses() {
        History history = generate(42, 20_000, -1);
        CheckReport report = Checkers.checkAll(history);
        assertTrue(report.ok(), report::summary);
        assertTrue(report.lastRevision() > 8_000, report::summary);
        assertEquals(report.summary(), Checkers.checkAll(history).summary(), "deterministic");
    }

    @Test
    void oneStaleReadInALargeHistoryIsTheOnlyFinding() {
        History history = generate(7, 10_000, 8_000);
        List<Violation> violations = Checkers.checkAll(history).violations();
        assertEquals(1, violations.size(), violations::toString);
        assertEquals(Violation.Kind.STALE_READ, violations.get(0).kind(), violations::toString);
        assertEquals(8_000, violations.get(0).operation());
    }
}
