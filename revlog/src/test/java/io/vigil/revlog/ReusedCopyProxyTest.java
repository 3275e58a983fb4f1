package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.KeyRange;
import org.lmdbjava.Txn;

/**
 * The proxy's reused native blocks against a plain map: a put reads a key and a value filled one
 * after the other on one thread, so the two must never share a block, and a block reused for the
 * next call must not change what LMDB stored. Sizes cross every block capacity and
 * {@link ReusedCopyProxy#KEEP_BYTES}; several threads write and read at once, each with its own ring.
 */
class ReusedCopyProxyTest {
    @TempDir
    Path dir;

    private static byte[] bytes(Random rnd, int size) {
        byte[] b = new byte[size];
        rnd.nextBytes(b);
        return b;
    }

    private static String hex(byte[] key) {
        return HexFormat.of().formatHex(key);
    }

    private static int size(Random rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> rnd.nextInt(64);
            case 1 -> rnd.nextInt(4096);
            case 2 -> ReusedCopyProxy.KEEP_BYTES - 8 + rnd.nextInt(16);
            default -> rnd.nextInt(3 * ReusedCopyProxy.KEEP_BYTES);
        };
    }

    @Test
    void whatLmdbStoresIsWhatWasPutWhateverTheSizesAndThreads() throws Exception {
        long seed = 20261201L;
        int threads = 3;
        try (Env<byte[]> env = Env.create(ReusedCopyProxy.PROXY).setMapSize(1L << 30).setMaxDbs(threads)
                .open(dir.toFile(), EnvFlags.MDB_NOTLS, EnvFlags.MDB_NOSYNC)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> runs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    Dbi<byte[]> dbi = env.openDbi("t" + t, DbiFlags.MDB_CREATE);
                    Random rnd = new Random(seed + t);
                    runs.add(pool.submit(() -> {
                        writeAndCheck(env, dbi, rnd);
                        return null;
                    }));
                }
                for (Future<?> run : runs) {
                    run.get();
                }
            } finally {
                pool.shutdownNow();
            }
        } catch (AssertionError | ExecutionException e) {
            throw new AssertionError("seed " + seed, e);
        }
    }

    private static void writeAndCheck(Env<byte[]> env, Dbi<byte[]> dbi, Random rnd) {
        Map<String, byte[]> model = new HashMap<>();
        List<byte[]> keys = new ArrayList<>();
        for (int round = 0; round < 20; round++) {
            try (Txn<byte[]> txn = env.txnWrite()) {
                for (int i = 0; i < 40; i++) {
                    // keys up to LMDB's limit (511 bytes); values of every size class
                    byte[] key = bytes(rnd, 1 + rnd.nextInt(511));
                    byte[] value = bytes(rnd, size(rnd));
                    dbi.put(txn, key, value);
                    model.put(hex(key), value);
                    keys.add(key);
                    byte[] earlier = keys.get(rnd.nextInt(keys.size()));
                    assertArrayEquals(model.get(hex(earlier)), dbi.get(txn, earlier),
                            "read back in the writing transaction");
                    if (rnd.nextInt(8) == 0) {
                        byte[] gone = keys.get(rnd.nextInt(keys.size()));
                        dbi.delete(txn, gone);
                        model.remove(hex(gone));
                    }
                }
                txn.commit();
            }
        }
        try (Txn<byte[]> txn = env.txnRead()) {
            for (byte[] key : keys) {
                byte[] want = model.get(hex(key));
                if (want == null) {
                    assertNull(dbi.get(txn, key));
                } else {
                    assertArrayEquals(want, dbi.get(txn, key));
                }
            }
            int seen = 0;
            try (CursorIterable<byte[]> all = dbi.iterate(txn, KeyRange.all())) {
                for (CursorIterable.KeyVal<byte[]> kv : all) {
                    assertArrayEquals(model.get(hex(kv.key())), kv.val());
                    seen++;
                }
            }
            assertEquals(model.size(), seen);
        }
    }
}
