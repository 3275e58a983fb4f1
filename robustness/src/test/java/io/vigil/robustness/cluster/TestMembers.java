package io.vigil.robustness.cluster;

import java.nio.file.Path;

/** Members without processes, for tests of what drives a {@link Cluster} (a fake one). */
public final class TestMembers {
    private TestMembers() {
    }

    public static Member member(int slot) {
        String name = "m" + (slot + 1);
        return new Member(name, slot, 10_000 + slot, 20_000 + slot, Path.of("/nonexistent", name));
    }
}
