package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.authpb.Permission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The merged permission check against a model that merges nothing: a key is held when one
 * permission holds it, and a range [b, e) is covered when b and every permission end inside it
 * are held (the uncovered part of a range, if any, starts at one of those points). Keys are
 * short strings over a tiny alphabet with "\0" in it, so ranges touch, overlap, nest and abut.
 */
class RangePermissionsTest {
    private static final byte[][] ALPHABET = {{0}, {'a'}, {'b'}, {'c'}};

    /** The model: permissions as given, etcd's reading of their bounds (empty end = +infinity). */
    private record Model(List<byte[][]> read, List<byte[][]> write) {
        static Model of(List<Permission> perms) {
            List<byte[][]> read = new ArrayList<>();
            List<byte[][]> write = new ArrayList<>();
            for (Permission p : perms) {
                byte[] k = p.getKey().toByteArray();
                byte[] e = p.getRangeEnd().toByteArray();
                byte[] end = e.length == 0 ? Arrays.copyOf(k, k.length + 1) : (e.length == 1 && e[0] == 0 ? null : e);
                byte[][] iv = {k, end};
                if (p.getPermType() != Permission.Type.WRITE) {
                    read.add(iv);
                }
                if (p.getPermType() != Permission.Type.READ) {
                    write.add(iv);
                }
            }
            return new Model(read, write);
        }

        boolean permits(Permission.Type type, byte[] key, byte[] rangeEnd) {
            List<byte[][]> ivs = type == Permission.Type.READ ? read : write;
            if (key.length == 0) {
                return false; // begins at +infinity
            }
            if (rangeEnd.length == 0) {
                return held(ivs, key);
            }
            byte[] end = rangeEnd.length == 1 && rangeEnd[0] == 0 ? null : rangeEnd;
            if (end != null && Arrays.compareUnsigned(key, end) >= 0) {
                return held(ivs, key);
            }
            if (!held(ivs, key)) {
                return false;
            }
            for (byte[][] iv : ivs) {
                byte[] t = iv[1];
                if (t != null && Arrays.compareUnsigned(t, key) >= 0 && (end == null || Arrays.compareUnsigned(t, end) < 0)
                        && !held(ivs, t)) {
                    return false;
                }
            }
            return true;
        }

        private static boolean held(List<byte[][]> ivs, byte[] p) {
            for (byte[][] iv : ivs) {
                if (iv[0].length > 0 && Arrays.compareUnsigned(iv[0], p) <= 0
                        && (iv[1] == null || Arrays.compareUnsigned(p, iv[1]) < 0)) {
                    return true;
                }
            }
            return false;
        }
    }

    @Test
    void mergedChecksAgreeWithTheUnmergedModel() {
        for (long seed = 1; seed <= 300; seed++) {
            Random rnd = new Random(seed);
            List<Permission> perms = new ArrayList<>();
            int n = rnd.nextInt(6);
            for (int i = 0; i < n; i++) {
                perms.add(Permission.newBuilder().setKey(ByteString.copyFrom(key(rnd, 1)))
                        .setRangeEnd(ByteString.copyFrom(rangeEnd(rnd)))
                        .setPermType(Permission.Type.forNumber(rnd.nextInt(3))).build());
            }
            RangePermissions merged = RangePermissions.of(perms);
            Model model = Model.of(perms);
            for (int q = 0; q < 200; q++) {
                Permission.Type type = rnd.nextBoolean() ? Permission.Type.READ : Permission.Type.WRITE;
                byte[] key = rnd.nextInt(20) == 0 ? new byte[0] : key(rnd, 1);
                byte[] end = rangeEnd(rnd);
                assertEquals(model.permits(type, key, end), merged.permits(type, key, end),
                        "seed " + seed + ": " + type + " [" + show(key) + ", " + show(end) + ") with " + perms);
            }
        }
    }

    @Test
    void etcdctlShapes() {
        RangePermissions p = RangePermissions.of(List.of(
                perm(Permission.Type.READ, "/p/", "/p0"),           // --prefix /p/
                perm(Permission.Type.READWRITE, "a", "z"),
                perm(Permission.Type.WRITE, "x", "\0"),              // --from-key x
                perm(Permission.Type.READ, "k", "")));               // one key
        assertTrue(p.permits(Permission.Type.READ, b("/p/a"), b("")));
        assertTrue(p.permits(Permission.Type.READ, b("/p/"), b("/p0")));
        assertFalse(p.permits(Permission.Type.READ, b("/p"), b("/p0")));
        assertFalse(p.permits(Permission.Type.WRITE, b("/p/a"), b("")));
        assertTrue(p.permits(Permission.Type.WRITE, b("x"), b("\0")));
        assertTrue(p.permits(Permission.Type.WRITE, b("y"), b("")));
        // [a, z) and [x, inf) abut in write: together they cover from a on
        assertTrue(p.permits(Permission.Type.WRITE, b("b"), b("\0")));
        assertFalse(p.permits(Permission.Type.READ, b("b"), b("\0")));
        assertTrue(p.permits(Permission.Type.READ, b("k"), b("")));
        assertTrue(p.permits(Permission.Type.READ, b("k"), b("k\0")));
        assertFalse(p.permits(Permission.Type.READ, b(""), b("\0")));
        // etcdctl's --prefix "" is ["\0", "\0"): every key
        RangePermissions all = RangePermissions.of(List.of(perm(Permission.Type.READ, "\0", "\0")));
        assertTrue(all.permits(Permission.Type.READ, b("\0"), b("\0")));
        assertTrue(all.permits(Permission.Type.READ, b("anything"), b("")));
        assertFalse(RangePermissions.NONE.permits(Permission.Type.READ, b("a"), b("")));
    }

    private static Permission perm(Permission.Type type, String key, String end) {
        return Permission.newBuilder().setPermType(type).setKey(ByteString.copyFromUtf8(key))
                .setRangeEnd(ByteString.copyFromUtf8(end)).build();
    }

    private static byte[] b(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static byte[] key(Random rnd, int min) {
        int len = min + rnd.nextInt(3);
        byte[] out = new byte[0];
        for (int i = 0; i < len; i++) {
            byte[] c = ALPHABET[rnd.nextInt(ALPHABET.length)];
            out = Arrays.copyOf(out, out.length + 1);
            out[out.length - 1] = c[0];
        }
        return out;
    }

    /** Empty (one key), "\0" (from key on), or a key. */
    private static byte[] rangeEnd(Random rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> new byte[0];
            case 1 -> new byte[] {0};
            default -> key(rnd, 1);
        };
    }

    private static String show(byte[] k) {
        return new String(k, java.nio.charset.StandardCharsets.ISO_8859_1).replace("\0", "\\0");
    }
}
