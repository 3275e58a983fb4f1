package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The records of revisions not yet committed to LMDB: what is held after adds, trims and discards. */
class PendingRecordsTest {
    private static List<byte[]> records(long main, int subs) {
        List<byte[]> out = new ArrayList<>();
        for (int sub = 0; sub < subs; sub++) {
            out.add((main + "." + sub).getBytes());
        }
        return out;
    }

    private static List<String> collected(PendingRecords p, long from, long through) {
        List<String> out = new ArrayList<>();
        assertTrue(p.collect(from, through, (main, r) -> out.add(new String(r))));
        return out;
    }

    @Test
    void holdsWhatWasAddedInRevisionThenSubRevisionOrder() {
        PendingRecords p = new PendingRecords(2);
        p.add(2, records(2, 1));
        p.add(3, records(3, 2));
        p.add(4, records(4, 1));
        assertArrayEquals("3.1".getBytes(), p.get(3, 1));
        assertNull(p.get(3, 2));
        assertNull(p.get(5, 0));
        assertEquals(List.of("3.0", "3.1", "4.0"), collected(p, 3, 4));
        assertEquals(List.of("2.0", "3.0", "3.1", "4.0"), collected(p, 2, 9), "beyond the newest: what is held");
    }

    @Test
    void trimmingRaisesTheFloorAndDropsWhatTheCommitHolds() {
        PendingRecords p = new PendingRecords(2);
        for (long main = 2; main <= 6; main++) {
            p.add(main, records(main, 1));
        }
        p.trimThrough(4);
        assertEquals(5, p.floor());
        assertNull(p.get(4, 0));
        assertFalse(p.collect(4, 6, (main, r) -> true), "below the floor: read it from LMDB");
        assertEquals(List.of("5.0", "6.0"), collected(p, 5, 6));
        p.trimThrough(6);
        assertNull(p.get(6, 0));
        p.add(7, records(7, 1));
        assertEquals(List.of("7.0"), collected(p, 7, 7));
    }

    @Test
    void revisionsAppliedAgainBelowAFailedBatchAreDiscardedWithIt() {
        PendingRecords p = new PendingRecords(2);
        for (long main = 2; main <= 6; main++) {
            p.add(main, records(main, 1));
        }
        // the store filled up: revisions 2..4 are applied again, then everything above 4 goes
        for (long main = 2; main <= 4; main++) {
            p.add(main, records(main, 1));
        }
        p.discardAbove(4);
        assertNull(p.get(5, 0));
        assertNull(p.get(6, 0));
        assertArrayEquals("4.0".getBytes(), p.get(4, 0));
        p.trimThrough(4);
        for (long main = 2; main <= 6; main++) {
            assertNull(p.get(main, 0), "revision " + main + " still held");
        }
    }
}
