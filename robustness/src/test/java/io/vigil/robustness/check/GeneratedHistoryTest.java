package io.vigil.robustness.check;

import static io.vigil.robustness.check.Histories.M1;
import static io.vigil.robustness.check.Histories.M2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.robustness.check.Histories.Store;
import io.vigil.robustness.history.History;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Histories of a simulated correct store at the size of a run (thousands of revisions and keys):
 * each operation takes effect at one instant inside its interval, intervals overlap, some
 * outcomes are unknown. They must pass, fast; one injected stale read must be the only finding.
 */
class GeneratedHistoryTest {

    /** 20k operations over 1000 keys; with staleAt >= 0, the get at that index answers an old revision. */
    static History generate(long seed, int operations, int staleAt) {
        Random random = new Random(seed);
        Histories h = new Histories();
        Store s = new Store();
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
            int kind = random.nextInt(100);
            if (i == staleAt) {
                h.get(client, point + 20, point + 21, rememberedKey, rememberedRevision, remembered == null ? new KeyValue[0]
                        : new KeyValue[] {remembered});
            } else if (kind < 40) {
                String value = "v" + values++;
                s.put(key, value);
                h.put(client, call, ret, key, value, s.revision());
            } else if (kind < 70) {
                KeyValue kv = s.get(key);
                h.get(client, call, ret, key, s.revision(), kv == null ? new KeyValue[0] : new KeyValue[] {kv});
                if (i < staleAt - 100 || remembered == null) {
                    remembered = kv;
                    rememberedRevision = s.revision();
                    rememberedKey = key;
                }
            } else if (kind < 80) {
                KeyValue kv = s.get(key);
                if (kv != null) {
                    s.delete(key);
                    h.delete(client, call, ret, key, "", false, s.revision(), kv);
                } else {
                    h.delete(client, call, ret, key, "", false, s.revision());
                }
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
        }
        h.watcher(1, M1).create(0, 1).all(point + 100, s);
        h.watcher(2, M2).create(0, 1).all(point + 100, s);
        return h.build();
    }

    @Test
    void aLargeCorrectHistoryPassesQuickly() {
        History history = generate(42, 20_000, -1);
        long start = System.nanoTime();
        CheckReport report = Checkers.checkAll(history);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(report.ok(), report::summary);
        assertTrue(report.lastRevision() > 8_000, report::summary);
        assertTrue(millis < 20_000, "checking took " + millis + " ms");
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
