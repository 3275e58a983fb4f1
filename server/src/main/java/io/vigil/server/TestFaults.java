package io.vigil.server;

import io.vigil.revlog.ApplyResult;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Deliberately broken behaviours, for the robustness harness only (issue 15: its checkers must be
 * shown to catch real bugs). The one switch is {@code --experimental-test-fault=<name>}, read once
 * at start; without it (the default) every fault is off and no code path changes. Each fault
 * sits where the guarantee it breaks is kept, behind a check of this class:
 *
 * <ul>
 *   <li>{@link Fault#STALE_LINEARIZABLE_READ}: {@link KvService#range} on a member that is not the
 *       leader answers a linearizable Range from what it has applied, without a ReadIndex.
 *   <li>{@link Fault#WATCH_SKIP_REVISION}: {@link #watchFeed} drops the events of every revision
 *       divisible by {@link #SKIPPED_REVISION_EVERY} before the watch hub's live path sees them.
 *   <li>{@link Fault#ACK_BEFORE_SYNC}: {@link KvService#put} answers at once with a predicted
 *       revision, before the proposal is in any WAL, committed or applied.
 *   <li>{@link Fault#HASH_MISMATCH}: {@link #hash} changes every hash this member reports of its
 *       store (Hash, HashKV, and its own side of the corruption check), as a member whose store
 *       silently diverged from the others' would.
 * </ul>
 */
final class TestFaults {
    static final String FLAG = "experimental-test-fault";
    /** watch-skip-revision: the revisions whose events live watchers never get. */
    static final long SKIPPED_REVISION_EVERY = 50;

    enum Fault {
        STALE_LINEARIZABLE_READ("stale-linearizable-read"),
        WATCH_SKIP_REVISION("watch-skip-revision"),
        ACK_BEFORE_SYNC("ack-before-sync"),
        HASH_MISMATCH("hash-mismatch");

        final String flagName;

        Fault(String flagName) {
            this.flagName = flagName;
        }
    }

    static final TestFaults NONE = new TestFaults(null);

    /** Null: no fault (the default). */
    private final Fault on;

    private TestFaults(Fault on) {
        this.on = on;
    }

    /** The fault {@code --experimental-test-fault} names; any other name is refused, listing the known ones. */
    static TestFaults named(String name) {
        List<String> known = new ArrayList<>();
        for (Fault f : Fault.values()) {
            if (f.flagName.equals(name.trim())) {
                return new TestFaults(f);
            }
            known.add(f.flagName);
        }
        throw new IllegalArgumentException("unknown test fault; one of " + String.join(", ", known));
    }

    boolean isOn(Fault fault) {
        return on == fault;
    }

    /** The fault's flag name, or null when none is on. */
    String name() {
        return on == null ? null : on.flagName;
    }

    /** At start: a member with a fault on says so loudly, so that no one mistakes it for a sound one. */
    void warnIfOn() {
        if (on != null) {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "test fault " + on.flagName
                    + " is on: this member breaks its guarantees on purpose (--" + FLAG
                    + ", for the robustness harness only; never use it for data you keep)");
        }
    }

    /**
     * A hash of this member's store as it reports it. With hash-mismatch on (for the corruption
     * check's tests) it is another value, the same every time, so that a comparison with members
     * that applied the same log fails as it would for a member whose data diverged.
     */
    int hash(int real) {
        return on == Fault.HASH_MISMATCH ? real ^ 0x5a5a5a5a : real;
    }

    /**
     * The watch hub's feed of applied batches. With watch-skip-revision on (for the robustness
     * harness), the events of each revision divisible by {@link #SKIPPED_REVISION_EVERY} are
     * dropped: the revision itself is still handed on (empty), so the hub's published revision,
     * and the progress it reports, moves past it as if its events had been sent. Every member
     * skips the same revisions. Only the live path is fed from here: a watcher that catches up
     * from the log (created at an older revision, or fallen behind) still gets those events.
     */
    Consumer<List<ApplyResult>> watchFeed(Consumer<List<ApplyResult>> hub) {
        if (on != Fault.WATCH_SKIP_REVISION) {
            return hub;
        }
        return results -> hub.accept(withSkippedRevisions(results));
    }

    static List<ApplyResult> withSkippedRevisions(List<ApplyResult> results) {
        List<ApplyResult> out = new ArrayList<>(results.size());
        for (ApplyResult r : results) {
            boolean skipped = !r.events().isEmpty() && r.revision() % SKIPPED_REVISION_EVERY == 0;
            out.add(skipped ? new ApplyResult(r.index(), r.revision(), r.response(), r.error(), List.of()) : r);
        }
        return out;
    }
}
