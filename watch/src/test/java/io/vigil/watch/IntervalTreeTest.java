package io.vigil.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * IntervalTree against hand cases, against a brute-force list model under random operations, and
 * for the number of nodes a query enters. The random test runs {@value #SEEDS} fresh seeds, each
 * printed; replay one with -Dvigil.itree.seed=N.
 */
class IntervalTreeTest {
    private static final int SEEDS = 5;
    private static final int OPS_PER_SEED = 4000;
    private static final byte[] UNBOUNDED = {};

    /** A value with identity semantics, as watchers have. */
    private static final class W {
        final String name;

        W(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static byte[] b(int... bytes) {
        byte[] out = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = (byte) bytes[i];
        }
        return out;
    }

    private static byte[] s(String ascii) {
        return ascii.getBytes(StandardCharsets.US_ASCII);
    }

    private static <V> List<V> query(IntervalTree<V> tree, byte[] key) {
        List<V> out = new ArrayList<>();
        tree.forEachContaining(key, out::add);
        return out;
    }

    private static List<String> names(IntervalTree<W> tree, byte[] key) {
        return query(tree, key).stream().map(w -> w.name).sorted().toList();
    }

    @Test
    void emptyTreeMatchesNothing() {
        IntervalTree<W> tree = new IntervalTree<>();
        assertTrue(tree.isEmpty());
        assertEquals(0, tree.size());
        assertEquals(List.of(), names(tree, s("a")));
        assertEquals(List.of(), names(tree, UNBOUNDED));
        assertFalse(tree.remove(s("a"), s("b"), new W("x")));
        tree.checkInvariants();
    }

    @Test
    void boundariesAreHalfOpen() {
        IntervalTree<W> tree = new IntervalTree<>();
        tree.add(s("b"), s("d"), new W("bd"));
        assertEquals(List.of(), names(tree, s("a")));
        assertEquals(List.of(), names(tree, s("azzz")));
        assertEquals(List.of("bd"), names(tree, s("b")));
        assertEquals(List.of("bd"), names(tree, s("b\0")));
        assertEquals(List.of("bd"), names(tree, s("czzzz")));
        assertEquals(List.of(), names(tree, s("d")));
        assertEquals(List.of(), names(tree, s("d\0")));
        assertEquals(List.of(), names(tree, UNBOUNDED));
    }

    @Test
    void singleKeyRangeEndsAtKeyPlusZeroByte() {
        IntervalTree<W> tree = new IntervalTree<>();
        tree.add(s("k"), s("k\0"), new W("k"));
        tree.add(b(0x41), b(0x42), new W("A-B"));
        assertEquals(List.of("k"), names(tree, s("k")));
        assertEquals(List.of(), names(tree, s("k\0")));
        assertEquals(List.of(), names(tree, s("j")));
        assertEquals(List.of("A-B"), names(tree, b(0x41)));
        assertEquals(List.of("A-B"), names(tree, b(0x41, 0xff, 0xff)));
        assertEquals(List.of(), names(tree, b(0x42)));
    }

    @Test
    void unboundedEndContainsEveryKeyFromStart() {
        IntervalTree<W> tree = new IntervalTree<>();
        tree.add(s("m"), UNBOUNDED, new W("m.."));
        tree.add(UNBOUNDED, UNBOUNDED, new W("all"));
        tree.add(s("a"), s("c"), new W("ac"));
        assertEquals(List.of("all"), names(tree, UNBOUNDED));
        assertEquals(List.of("ac", "all"), names(tree, s("a")));
        assertEquals(List.of("all"), names(tree, s("l")));
        assertEquals(List.of("all", "m.."), names(tree, s("m")));
        assertEquals(List.of("all", "m.."), names(tree, b(0xff, 0xff, 0xff, 0xff)));
        tree.checkInvariants();
    }

    @Test
    void emptyKeyIsBelowEveryOtherKey() {
        IntervalTree<W> tree = new IntervalTree<>();
        tree.add(UNBOUNDED, b(0), new W("only-empty"));
        tree.add(b(0), b(1), new W("zero"));
        assertEquals(List.of("only-empty"), names(tree, UNBOUNDED));
        assertEquals(List.of("zero"), names(tree, b(0)));
        assertEquals(List.of("zero"), names(tree, b(0, 0xff)));
        assertEquals(List.of(), names(tree, b(1)));
    }

    @Test
    void bytesCompareUnsigned() {
        IntervalTree<W> tree = new IntervalTree<>();
        // Signed comparison would put 0x80..0xff below 0x00 and make this range empty.
        tree.add(b(0x7f), b(0xff), new W("7f-ff"));
        tree.add(b(0xff), UNBOUNDED, new W("ff.."));
        tree.add(b(0x01), b(0x80), new W("01-80"));
        assertEquals(List.of(), names(tree, b(0x00)));
        assertEquals(List.of("01-80"), names(tree, b(0x01)));
        assertEquals(List.of("01-80", "7f-ff"), names(tree, b(0x7f)));
        assertEquals(List.of("7f-ff"), names(tree, b(0x80)));
        assertEquals(List.of("7f-ff"), names(tree, b(0xfe, 0xff)));
        assertEquals(List.of("ff.."), names(tree, b(0xff)));
        assertEquals(List.of("ff.."), names(tree, b(0xff, 0xff)));
        tree.checkInvariants();
    }

    @Test
    void rejectsEmptyOrReversedBoundedRanges() {
        IntervalTree<W> tree = new IntervalTree<>();
        assertThrows(IllegalArgumentException.class, () -> tree.add(s("b"), s("b"), new W("x")));
        assertThrows(IllegalArgumentException.class, () -> tree.add(s("b"), s("a"), new W("x")));
        assertThrows(IllegalArgumentException.class, () -> tree.add(b(0xff), b(0x01), new W("x")));
        assertTrue(tree.isEmpty());
    }

    @Test
    void duplicatesAreDistinctAndRemovedByIdentity() {
        IntervalTree<W> tree = new IntervalTree<>();
        W one = new W("one");
        W two = new W("two");
        W twin = new W("one"); // same name, different identity
        tree.add(s("a"), s("z"), one);
        tree.add(s("a"), s("z"), two);
        tree.add(s("a"), s("z"), one);
        tree.add(s("a"), UNBOUNDED, two);
        assertEquals(4, tree.size());
        assertEquals(List.of("one", "one", "two", "two"), names(tree, s("m")));

        assertFalse(tree.remove(s("a"), s("z"), twin), "values compare by identity");
        assertFalse(tree.remove(s("a"), s("y"), one), "end must match");
        assertFalse(tree.remove(s("b"), s("z"), one), "start must match");
        assertTrue(tree.remove(s("a"), s("z"), one));
        assertEquals(List.of("one", "two", "two"), names(tree, s("m")));
        assertTrue(tree.remove(s("a"), s("z"), one));
        assertFalse(tree.remove(s("a"), s("z"), one));
        assertTrue(tree.remove(s("a"), UNBOUNDED, two));
        assertEquals(List.of("two"), names(tree, s("m")));
        assertEquals(List.of(), names(tree, s("z")));
        assertTrue(tree.remove(s("a"), s("z"), two));
        assertTrue(tree.isEmpty());
        tree.checkInvariants();
    }

    @Test
    void removeFindsEqualArraysNotJustTheSameOnes() {
        IntervalTree<W> tree = new IntervalTree<>();
        W w = new W("w");
        tree.add(s("a"), s("b"), w);
        assertTrue(tree.remove(s("a"), s("b"), w));
        assertTrue(tree.isEmpty());
    }

    // ---- randomized comparison with a brute-force model ----

    private record Entry(byte[] start, byte[] end, W value) {
        boolean contains(byte[] key) {
            return Arrays.compareUnsigned(start, key) <= 0
                    && (end.length == 0 || Arrays.compareUnsigned(key, end) < 0);
        }

        boolean sameRange(byte[] s, byte[] e) {
            return Arrays.equals(start, s) && Arrays.equals(end, e);
        }
    }

    /** Few distinct bytes and short keys, so that ranges overlap and share boundaries often. */
    private static final int[] ALPHABET = {0x00, 0x01, 0x61, 0x7f, 0x80, 0xfe, 0xff};

    private static byte[] randomKey(Random rnd) {
        byte[] key = new byte[rnd.nextInt(4)];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) ALPHABET[rnd.nextInt(ALPHABET.length)];
        }
        return key;
    }

    /** A random non-empty range, unbounded about one time in five. */
    private static byte[][] randomRange(Random rnd) {
        byte[] a = randomKey(rnd);
        if (rnd.nextInt(5) == 0) {
            return new byte[][] {a, UNBOUNDED};
        }
        byte[] c = randomKey(rnd);
        int cmp = Arrays.compareUnsigned(a, c);
        if (cmp == 0) {
            c = Arrays.copyOf(a, a.length + 1); // the single key a
        } else if (cmp > 0) {
            byte[] t = a;
            a = c;
            c = t;
        }
        return new byte[][] {a, c};
    }

    @Test
    void matchesBruteForceModelUnderRandomOperations() {
        Long fixed = Long.getLong("vigil.itree.seed");
        if (fixed != null) {
            runSeed(fixed);
            return;
        }
        Random seeds = new Random();
        for (int i = 0; i < SEEDS; i++) {
            runSeed(seeds.nextLong());
        }
    }

    private static void runSeed(long seed) {
        System.out.println("IntervalTreeTest seed " + seed + " (replay: -Dvigil.itree.seed=" + seed + ")");
        Random rnd = new Random(seed);
        IntervalTree<W> tree = new IntervalTree<>();
        List<Entry> model = new ArrayList<>();
        int step = 0;
        try {
            for (; step < OPS_PER_SEED; step++) {
                int op = rnd.nextInt(100);
                if (op < 40) {
                    byte[][] r = randomRange(rnd);
                    // Sometimes add a value already present for this range again: a true duplicate.
                    W value = null;
                    if (rnd.nextInt(10) == 0) {
                        for (Entry e : model) {
                            if (e.sameRange(r[0], r[1])) {
                                value = e.value();
                                break;
                            }
                        }
                    }
                    if (value == null) {
                        value = new W("w" + step);
                    }
                    // Fresh arrays, so the tree cannot rely on the caller's instances.
                    tree.add(r[0].clone(), r[1].clone(), value);
                    model.add(new Entry(r[0], r[1], value));
                } else if (op < 65) {
                    byte[] start;
                    byte[] end;
                    W value;
                    int kind = rnd.nextInt(10);
                    if (kind < 7 && !model.isEmpty()) {
                        Entry e = model.get(rnd.nextInt(model.size()));
                        start = e.start();
                        end = e.end();
                        value = e.value();
                    } else if (kind < 9 && !model.isEmpty()) {
                        // A known value under a possibly different range.
                        byte[][] r = randomRange(rnd);
                        start = r[0];
                        end = r[1];
                        value = model.get(rnd.nextInt(model.size())).value();
                    } else {
                        byte[][] r = randomRange(rnd);
                        start = r[0];
                        end = r[1];
                        value = new W("absent");
                    }
                    boolean expected = false;
                    for (int i = 0; i < model.size(); i++) {
                        Entry e = model.get(i);
                        if (e.value() == value && e.sameRange(start, end)) {
                            model.remove(i);
                            expected = true;
                            break;
                        }
                    }
                    assertEquals(expected, tree.remove(start.clone(), end.clone(), value),
                            "seed " + seed + " step " + step + ": remove " + describe(start, end));
                } else {
                    byte[] key = randomKey(rnd);
                    List<String> expected = new ArrayList<>();
                    for (Entry e : model) {
                        if (e.contains(key)) {
                            expected.add(e.value().name);
                        }
                    }
                    expected.sort(null);
                    assertEquals(expected, names(tree, key),
                            "seed " + seed + " step " + step + ": query " + HexFormat.of().formatHex(key));
                }
                tree.checkInvariants();
                assertEquals(model.size(), tree.size(), "seed " + seed + " step " + step + ": size");
                assertEquals(model.isEmpty(), tree.isEmpty(), "seed " + seed + " step " + step + ": isEmpty");
            }
            // Drain in random order: every entry must be removable exactly once.
            while (!model.isEmpty()) {
                Entry e = model.remove(rnd.nextInt(model.size()));
                assertTrue(tree.remove(e.start(), e.end(), e.value()),
                        "seed " + seed + " drain: remove " + describe(e.start(), e.end()));
                tree.checkInvariants();
                step++;
            }
            assertTrue(tree.isEmpty(), "seed " + seed + ": empty after drain");
        } catch (IllegalStateException broken) {
            throw new AssertionError("seed " + seed + " step " + step + ": invariant broken", broken);
        }
    }

    private static String describe(byte[] start, byte[] end) {
        HexFormat hex = HexFormat.of();
        return "[" + hex.formatHex(start) + ", " + (end.length == 0 ? "unbounded" : hex.formatHex(end)) + ")";
    }

    // ---- query cost ----

    @Test
    void queryEntersFewNodesAmongManyNonMatchingEntries() {
        long seed = 42;
        Random rnd = new Random(seed);
        IntervalTree<W> tree = new IntervalTree<>();
        byte[] key = s("m");
        // Non-matching entries: below the key (many ending exactly at it), or above it (many
        // unbounded, starting just past it), inserted in random order.
        List<byte[][]> ranges = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            byte[] tag = String.format("%06d", i).getBytes(StandardCharsets.US_ASCII);
            switch (i % 4) {
                case 0 -> ranges.add(new byte[][] {concat(s("a"), tag), concat(s("b"), tag)});
                case 1 -> ranges.add(new byte[][] {concat(s("c"), tag), key});
                case 2 -> ranges.add(new byte[][] {concat(s("m\0"), tag), UNBOUNDED});
                default -> ranges.add(new byte[][] {concat(s("n"), tag), concat(s("z"), tag)});
            }
        }
        ranges.add(new byte[][] {s("l"), s("n"), null});
        ranges.add(new byte[][] {key, s("m\0"), null});
        ranges.add(new byte[][] {s("b"), UNBOUNDED, null});
        Collections.shuffle(ranges, rnd);
        for (byte[][] r : ranges) {
            tree.add(r[0], r[1], new W(r.length == 3 ? "match" : "miss"));
        }
        tree.checkInvariants();

        List<String> found = names(tree, key);
        assertEquals(List.of("match", "match", "match"), found);
        int visits = tree.lastQueryVisits();
        System.out.println("IntervalTreeTest: 3 matches among " + tree.size() + " entries, " + visits + " nodes entered");
        assertTrue(visits < 200, "entered " + visits + " nodes for 3 matches among " + tree.size() + " entries");

        assertEquals(List.of(), names(tree, s("a")));
        assertTrue(tree.lastQueryVisits() < 200, "entered " + tree.lastQueryVisits() + " nodes for a query with no match");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
