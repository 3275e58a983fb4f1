package io.vigil.revlog;

import io.vigil.proto.authpb.Permission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * One user's permissions merged over all its roles, per kind (etcd's unifiedRangePermissions in
 * its rangePermCache): the union of the granted ranges as sorted, disjoint, non-touching
 * intervals, so a check is one binary search.
 *
 * <p>Ranges follow etcd's adt.BytesAffineInterval: keys compare as unsigned bytes, and an empty
 * bound is +infinity. A permission with no range end is the one key {@code [key, key+"\0")}, with
 * range end {@code "\0"} every key from key on, else {@code [key, range_end)}; one whose range is
 * empty (or whose key is empty, which begins at infinity) grants nothing. A request is checked
 * as etcd checks it: a single key (no range end) is permitted when some permission holds it; a
 * range when the union of permissions covers all of it; a range that is empty ({@code key >=
 * range_end}) when some permission holds its first key; a request with an empty key never.
 */
final class RangePermissions {
    static final RangePermissions NONE = new RangePermissions(List.of(), List.of());

    /** A half-open interval; {@code end} null is +infinity. */
    private record Interval(byte[] begin, byte[] end) {
    }

    private final Interval[] read;
    private final Interval[] write;

    private RangePermissions(List<Interval> read, List<Interval> write) {
        this.read = merge(read);
        this.write = merge(write);
    }

    static RangePermissions of(List<Permission> permissions) {
        List<Interval> read = new ArrayList<>();
        List<Interval> write = new ArrayList<>();
        for (Permission p : permissions) {
            Interval iv = interval(p.getKey().toByteArray(), p.getRangeEnd().toByteArray());
            if (iv == null) {
                continue;
            }
            switch (p.getPermType()) {
                case READ -> read.add(iv);
                case WRITE -> write.add(iv);
                case READWRITE -> {
                    read.add(iv);
                    write.add(iv);
                }
                default -> {
                }
            }
        }
        return new RangePermissions(read, write);
    }

    /** The interval a permission grants, or null when it grants nothing. */
    private static Interval interval(byte[] key, byte[] rangeEnd) {
        if (key.length == 0) {
            return null;
        }
        byte[] end;
        if (rangeEnd.length == 0) {
            end = Arrays.copyOf(key, key.length + 1);
        } else if (rangeEnd.length == 1 && rangeEnd[0] == 0) {
            end = null;
        } else {
            end = rangeEnd;
        }
        return end != null && Arrays.compareUnsigned(key, end) >= 0 ? null : new Interval(key, end);
    }

    private static Interval[] merge(List<Interval> intervals) {
        List<Interval> sorted = new ArrayList<>(intervals);
        sorted.sort(Comparator.comparing(Interval::begin, Arrays::compareUnsigned));
        List<Interval> out = new ArrayList<>();
        for (Interval iv : sorted) {
            Interval last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && (last.end() == null || Arrays.compareUnsigned(iv.begin(), last.end()) <= 0)) {
                out.set(out.size() - 1, new Interval(last.begin(), maxEnd(last.end(), iv.end())));
            } else {
                out.add(iv);
            }
        }
        return out.toArray(new Interval[0]);
    }

    private static byte[] maxEnd(byte[] a, byte[] b) {
        if (a == null || b == null) {
            return null;
        }
        return Arrays.compareUnsigned(a, b) >= 0 ? a : b;
    }

    /** Whether a request of {@code type} (READ or WRITE) on {@code key}/{@code rangeEnd} is permitted. */
    boolean permits(Permission.Type type, byte[] key, byte[] rangeEnd) {
        Interval[] granted = type == Permission.Type.READ ? read : write;
        if (key.length == 0) {
            return false;
        }
        Interval holding = holding(granted, key);
        if (holding == null) {
            return false;
        }
        if (rangeEnd.length == 0) {
            return true;
        }
        if (rangeEnd.length == 1 && rangeEnd[0] == 0) {
            return holding.end() == null;
        }
        if (Arrays.compareUnsigned(key, rangeEnd) >= 0) {
            return true; // an empty range: its first key is held
        }
        return holding.end() == null || Arrays.compareUnsigned(holding.end(), rangeEnd) >= 0;
    }

    /** The interval holding {@code key}, or null. */
    private static Interval holding(Interval[] granted, byte[] key) {
        int lo = 0;
        int hi = granted.length - 1;
        Interval candidate = null;
        while (lo <= hi) { // the last interval beginning at or before key
            int mid = (lo + hi) >>> 1;
            if (Arrays.compareUnsigned(granted[mid].begin(), key) <= 0) {
                candidate = granted[mid];
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (candidate == null || (candidate.end() != null && Arrays.compareUnsigned(key, candidate.end()) >= 0)) {
            return null;
        }
        return candidate;
    }
}
