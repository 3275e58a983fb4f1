package io.vigil.revlog;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The seed loop of revlog's model tests: seeds 1..defaultSeeds ({@code -Dvigil.revlog.seeds=N}
 * runs more), or only {@code -Dvigil.revlog.seed=N}, each in a data directory of its own. A
 * failure names its seed and how to replay it.
 */
final class Seeds {
    interface Run {
        void go(long seed, Path dir) throws Exception;
    }

    private Seeds() {
    }

    static void forEach(String test, int defaultSeeds, Path tmp, Run run) throws Exception {
        Long only = Long.getLong("vigil.revlog.seed");
        long first = only != null ? only : 1;
        long last = only != null ? only : Integer.getInteger("vigil.revlog.seeds", defaultSeeds);
        for (long seed = first; seed <= last; seed++) {
            Path dir = Files.createTempDirectory(tmp, "seed" + seed);
            try {
                run.go(seed, dir);
            } catch (Throwable t) {
                throw new AssertionError(test + " failed for seed " + seed
                        + " (replay: -Dvigil.revlog.seed=" + seed + ")", t);
            }
        }
    }
}
