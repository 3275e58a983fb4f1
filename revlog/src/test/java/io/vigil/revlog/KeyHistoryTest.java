package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.proto.mvccpb.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link KeyHistory} against a list of its entries: appends (sub revisions up to the int range,
 * tombstones), compactions, and views taken earlier that must not change.
 */
class KeyHistoryTest {
    private record Rev(long main, int sub, boolean tombstone) {}

    private static final KeyValue LIVE = KeyValue.newBuilder().setCreateRevision(1).setVersion(1).build();

    @Test
    void matchesAListOfItsEntriesThroughAppendsAndCompactions() {
        for (long seed = 1; seed <= 200; seed++) {
            try {
                run(seed);
            } catch (AssertionError e) {
                throw new AssertionError("seed " + seed, e);
            }
        }
    }

    private static void run(long seed) {
        Random rnd = new Random(seed);
        KeyHistory history = new KeyHistory();
        List<Rev> model = new ArrayList<>();
        List<KeyHistory.Snapshot> views = new ArrayList<>();
        List<List<Rev>> viewModels = new ArrayList<>();
        long main = 1;
        for (int step = 0; step < 300; step++) {
            if (rnd.nextInt(8) > 0) {
                main += 1 + rnd.nextInt(3);
                int sub = rnd.nextInt(4) == 0 ? Integer.MAX_VALUE - rnd.nextInt(3) : rnd.nextInt(5);
                boolean tombstone = rnd.nextInt(4) == 0;
                history.append(main, sub, tombstone, LIVE);
                model.add(new Rev(main, sub, tombstone));
            } else {
                long at = 1 + (long) (rnd.nextDouble() * main);
                List<Rev> removed = new ArrayList<>();
                boolean empty = history.compact(at, (m, s) -> removed.add(new Rev(m, s, false)));
                int keep = floor(model, at);
                int firstKept = keep < 0 ? 0 : model.get(keep).tombstone() && model.get(keep).main() < at ? keep + 1 : keep;
                List<Rev> expectedRemoved = new ArrayList<>();
                for (Rev r : model.subList(0, firstKept)) {
                    expectedRemoved.add(new Rev(r.main(), r.sub(), false));
                }
                assertEquals(expectedRemoved, removed, "removed at " + at);
                model = new ArrayList<>(model.subList(firstKept, model.size()));
                assertEquals(model.isEmpty(), empty, "empty after compacting at " + at);
            }
            assertEquals(model, entries(history.snapshot()));
            if (rnd.nextInt(10) == 0) {
                views.add(history.snapshot());
                viewModels.add(List.copyOf(model));
            }
            for (int v = 0; v < views.size(); v++) {
                assertEquals(viewModels.get(v), entries(views.get(v)), "a view taken earlier changed");
            }
            long probe = (long) (rnd.nextDouble() * (main + 2));
            int i = history.snapshot().floor(probe);
            assertEquals(floor(model, probe), i, "floor(" + probe + ")");
        }
    }

    private static int floor(List<Rev> model, long at) {
        int found = KeyHistory.NOT_FOUND;
        for (int i = 0; i < model.size(); i++) {
            if (model.get(i).main() <= at) {
                found = i;
            }
        }
        return found;
    }

    private static List<Rev> entries(KeyHistory.Snapshot s) {
        List<Rev> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            out.add(new Rev(s.main(i), s.sub(i), s.tombstone(i)));
        }
        return out;
    }
}
