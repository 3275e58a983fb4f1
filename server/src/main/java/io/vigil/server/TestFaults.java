package io.vigil.server;

import java.util.ArrayList;
import java.util.List;

/**
 * Deliberately broken behaviours, for the robustness harness only (issue 15: its checkers must be
 * shown to catch real bugs). The one switch is {@code --experimental-test-fault=<name>}, read once
 * at start; without it (the default) every fault is off and no code path changes. Each fault
 * sits where the guarantee it breaks is kept, behind a check of this class:
 *
 * <ul>
 *   <li>{@link Fault#STALE_LINEARIZABLE_READ}: {@link KvService#range} on a member that is not the
 *       leader answers a linearizable Range from what it has applied, without a ReadIndex.
 *   <li>{@link Fault#ACK_BEFORE_SYNC}: {@link KvService#put} answers at once with a predicted
 *       revision, before the proposal is in any WAL, committed or applied.
 * </ul>
 */
final class TestFaults {
    static final String FLAG = "experimental-test-fault";

    enum Fault {
        STALE_LINEARIZABLE_READ("stale-linearizable-read"),
        ACK_BEFORE_SYNC("ack-before-sync");

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
}
