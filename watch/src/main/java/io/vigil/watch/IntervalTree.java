package io.vigil.watch;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Half-open byte-string intervals [start, end) with a value each, answering "which intervals contain
 * this key" without looking at intervals that cannot: the range-watcher index of the watch hub.
 *
 * <p>Keys compare unsigned-lexicographically ({@link Arrays#compareUnsigned}). An empty {@code end}
 * means unbounded above (etcd's range_end "\0"); etcd's empty range_end (a single key) is not
 * expressible here and is the caller's to translate. The tree keeps the {@code start} and {@code end}
 * arrays it is given, without copying: callers must not mutate them afterwards.
 *
 * <p>Structure: an AVL tree of entry nodes ordered by (start, end, seq), where an unbounded end
 * sorts above every bounded one and seq is a per-tree insertion counter, so that entries with equal
 * (start, end) are distinct and form one contiguous run in key order. Invariants, for every node n:
 * <ul>
 *   <li>order: every key in n.left is below n's key and every key in n.right above it (strictly,
 *       since seq makes keys unique);
 *   <li>balance: n.height = 1 + max(height(n.left), height(n.right)), with height(null) = 0, and the
 *       two child heights differ by at most 1, so height &lt;= 1.44 log2(size + 2);
 *   <li>augmentation: n.maxEnd is the greatest end in n's subtree, unbounded if any end there is
 *       unbounded; it is always the very array of one of the subtree's ends, never a copy.
 * </ul>
 * A stabbing query skips a subtree whose maxEnd &lt;= key (nothing there ends above the key) and a
 * right subtree whose node's start &gt; key (everything there starts above the key). Every other
 * node it enters lies on the search path for the key or has a match in its subtree, so a query
 * with m matches enters O(log n) nodes plus the union of the root paths of its matches, which is
 * O(log n + m) when the matches are adjacent in start order and O(m log n) at worst.
 *
 * <p>Not thread-safe; the caller holds a lock. An action passed to {@link #forEachContaining} must
 * not modify the tree.
 */
final class IntervalTree<V> {
    private static final byte[] UNBOUNDED = new byte[0];

    private static final class Node<V> {
        final byte[] start;
        /** Empty means unbounded. */
        final byte[] end;
        final V value;
        final long seq;
        Node<V> left;
        Node<V> right;
        /** Greatest end in this subtree (augmentation invariant). */
        byte[] maxEnd;
        /** 1 + the taller child's height (balance invariant). */
        int height;

        Node(byte[] start, byte[] end, V value, long seq) {
            this.start = start;
            this.end = end;
            this.value = value;
            this.seq = seq;
            this.maxEnd = end;
            this.height = 1;
        }
    }

    private Node<V> root;
    private int size;
    private long nextSeq;
    /** Nodes entered by the last forEachContaining; for structural tests only. */
    private int lastQueryVisits;

    /**
     * end.length == 0 means unbounded above (etcd's range_end "\0": every key >= start). Requires
     * start < end when end is bounded. The same (start, end) may be added many times with different
     * values.
     */
    void add(byte[] start, byte[] end, V value) {
        if (start == null || end == null) {
            throw new NullPointerException("start and end must not be null");
        }
        if (end.length != 0 && Arrays.compareUnsigned(start, end) >= 0) {
            throw new IllegalArgumentException("empty interval: start must be below a bounded end");
        }
        root = insert(root, new Node<>(start, end.length == 0 ? UNBOUNDED : end, value, nextSeq++));
        size++;
    }

    /** Removes the one entry with this start, end and value (value compared with ==). Returns whether it was there. */
    boolean remove(byte[] start, byte[] end, V value) {
        Node<V> found = findEntry(root, start, end, value);
        if (found == null) {
            return false;
        }
        root = delete(root, found);
        size--;
        return true;
    }

    /** Calls action for every entry with start <= key < end (unsigned lexicographic order, java.util.Arrays.compareUnsigned). */
    void forEachContaining(byte[] key, Consumer<? super V> action) {
        lastQueryVisits = 0;
        collect(root, key, action);
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** How many nodes the last {@link #forEachContaining} entered, pruned ones included. */
    int lastQueryVisits() {
        return lastQueryVisits;
    }

    /** Verifies the order, balance and augmentation invariants and the size; throws IllegalStateException if one fails. */
    void checkInvariants() {
        int[] count = new int[1];
        check(root, null, null, count);
        if (count[0] != size) {
            throw new IllegalStateException("size " + size + " but " + count[0] + " nodes");
        }
    }

    private void collect(Node<V> n, byte[] key, Consumer<? super V> action) {
        while (n != null) {
            lastQueryVisits++;
            if (!endsAbove(n.maxEnd, key)) {
                return;
            }
            collect(n.left, key, action);
            if (Arrays.compareUnsigned(n.start, key) > 0) {
                return;
            }
            if (endsAbove(n.end, key)) {
                action.accept(n.value);
            }
            n = n.right;
        }
    }

    /** Searches only the run of nodes whose (start, end) equals the target: O(log n + run length). */
    private static <V> Node<V> findEntry(Node<V> n, byte[] start, byte[] end, V value) {
        while (n != null) {
            int c = compareRange(start, end, n.start, n.end);
            if (c < 0) {
                n = n.left;
            } else if (c > 0) {
                n = n.right;
            } else {
                if (n.value == value) {
                    return n;
                }
                Node<V> inLeft = findEntry(n.left, start, end, value);
                if (inLeft != null) {
                    return inLeft;
                }
                n = n.right;
            }
        }
        return null;
    }

    private Node<V> insert(Node<V> n, Node<V> fresh) {
        if (n == null) {
            return fresh;
        }
        if (compareKey(fresh, n) < 0) {
            n.left = insert(n.left, fresh);
        } else {
            n.right = insert(n.right, fresh);
        }
        return rebalance(n);
    }

    private Node<V> delete(Node<V> n, Node<V> target) {
        if (n == target) {
            if (n.left == null) {
                return n.right;
            }
            if (n.right == null) {
                return n.left;
            }
            Node<V> successor = n.right;
            while (successor.left != null) {
                successor = successor.left;
            }
            successor.right = removeMin(n.right);
            successor.left = n.left;
            return rebalance(successor);
        }
        if (compareKey(target, n) < 0) {
            n.left = delete(n.left, target);
        } else {
            n.right = delete(n.right, target);
        }
        return rebalance(n);
    }

    private Node<V> removeMin(Node<V> n) {
        if (n.left == null) {
            return n.right;
        }
        n.left = removeMin(n.left);
        return rebalance(n);
    }

    /** Restores balance at n, whose subtrees are balanced and differ in height by at most 2, and refreshes its fields. */
    private Node<V> rebalance(Node<V> n) {
        update(n);
        int bf = height(n.left) - height(n.right);
        if (bf > 1) {
            if (height(n.left.left) < height(n.left.right)) {
                n.left = rotateLeft(n.left);
            }
            return rotateRight(n);
        }
        if (bf < -1) {
            if (height(n.right.right) < height(n.right.left)) {
                n.right = rotateRight(n.right);
            }
            return rotateLeft(n);
        }
        return n;
    }

    private Node<V> rotateRight(Node<V> n) {
        Node<V> l = n.left;
        n.left = l.right;
        l.right = n;
        update(n);
        update(l);
        return l;
    }

    private Node<V> rotateLeft(Node<V> n) {
        Node<V> r = n.right;
        n.right = r.left;
        r.left = n;
        update(n);
        update(r);
        return r;
    }

    /** Recomputes n's height and maxEnd from its own end and its children, which must be up to date. */
    private static <V> void update(Node<V> n) {
        byte[] max = n.end;
        int h = 0;
        if (n.left != null) {
            h = n.left.height;
            if (compareEnd(n.left.maxEnd, max) > 0) {
                max = n.left.maxEnd;
            }
        }
        if (n.right != null) {
            h = Math.max(h, n.right.height);
            if (compareEnd(n.right.maxEnd, max) > 0) {
                max = n.right.maxEnd;
            }
        }
        n.height = h + 1;
        n.maxEnd = max;
    }

    private static int height(Node<?> n) {
        return n == null ? 0 : n.height;
    }

    /** Whether key < end, an empty end being unbounded. */
    private static boolean endsAbove(byte[] end, byte[] key) {
        return end.length == 0 || Arrays.compareUnsigned(key, end) < 0;
    }

    /** Orders ends with the empty (unbounded) end above every other. */
    private static int compareEnd(byte[] a, byte[] b) {
        if (a.length == 0 || b.length == 0) {
            return Boolean.compare(a.length == 0, b.length == 0);
        }
        return Arrays.compareUnsigned(a, b);
    }

    private static int compareRange(byte[] startA, byte[] endA, byte[] startB, byte[] endB) {
        int c = Arrays.compareUnsigned(startA, startB);
        return c != 0 ? c : compareEnd(endA, endB);
    }

    private static int compareKey(Node<?> a, Node<?> b) {
        int c = compareRange(a.start, a.end, b.start, b.end);
        return c != 0 ? c : Long.compare(a.seq, b.seq);
    }

    /** Checks the subtree at n, whose keys must lie strictly between lo and hi (null = no bound); returns its height. */
    private static int check(Node<?> n, Node<?> lo, Node<?> hi, int[] count) {
        if (n == null) {
            return 0;
        }
        count[0]++;
        if ((lo != null && compareKey(lo, n) >= 0) || (hi != null && compareKey(n, hi) >= 0)) {
            throw new IllegalStateException("order violated at seq " + n.seq);
        }
        if (n.end.length != 0 && Arrays.compareUnsigned(n.start, n.end) >= 0) {
            throw new IllegalStateException("empty interval at seq " + n.seq);
        }
        int hl = check(n.left, lo, n, count);
        int hr = check(n.right, n, hi, count);
        if (Math.abs(hl - hr) > 1) {
            throw new IllegalStateException("unbalanced at seq " + n.seq + ": " + hl + " vs " + hr);
        }
        if (n.height != 1 + Math.max(hl, hr)) {
            throw new IllegalStateException("stale height at seq " + n.seq);
        }
        byte[] max = n.end;
        if (n.left != null && compareEnd(n.left.maxEnd, max) > 0) {
            max = n.left.maxEnd;
        }
        if (n.right != null && compareEnd(n.right.maxEnd, max) > 0) {
            max = n.right.maxEnd;
        }
        if (compareEnd(n.maxEnd, max) != 0) {
            throw new IllegalStateException("stale maxEnd at seq " + n.seq);
        }
        return 1 + Math.max(hl, hr);
    }
}
