package io.vigil.robustness.nemesis;

/**
 * The faults the nemesis picks from, each with the kind name its {@code FaultRecord} carries.
 * Faults with a hold last a random while and are then undone; the others are one operation.
 */
public enum FaultKind {
    /** SIGKILL the leader, restart it after the hold on the same data. */
    KILL_LEADER("kill", true),
    /** SIGKILL a follower, restart it after the hold. */
    KILL_FOLLOWER("kill", true),
    /** SIGSTOP the leader, SIGCONT after the hold: a process that stops and comes back unaware. */
    PAUSE_LEADER("pause", true),
    PAUSE_FOLLOWER("pause", true),
    /**
     * Blackhole every peer link into and out of the leader, heal after the hold; bytes held or
     * lost (a coin toss: a partition healed before TCP gives up, or after).
     */
    ISOLATE_LEADER("partition", true),
    ISOLATE_FOLLOWER("partition", true),
    /** Latency on every peer link of a member, removed after the hold. */
    DELAY("delay", true),
    /** Maintenance MoveLeader to a follower. */
    MOVE_LEADER("move-leader", false),
    /** MemberRemove of a member, its data deleted, then MemberAdd of a new one. */
    REMOVE_ADD("remove-add", false),
    /** Maintenance Defragment on a member. */
    DEFRAGMENT("defragment", false);

    private final String recordKind;
    private final boolean held;

    FaultKind(String recordKind, boolean held) {
        this.recordKind = recordKind;
        this.held = held;
    }

    /** The FaultRecord kind: kill, pause, partition, delay, move-leader, remove-add, defragment. */
    public String recordKind() {
        return recordKind;
    }

    /** Whether the fault lasts a hold and is then undone (else it is one operation). */
    public boolean held() {
        return held;
    }

    /** The name {@code robustness/run --faults} takes: kill-leader, pause-follower, remove-add... */
    public String flagName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    public static FaultKind ofFlagName(String name) {
        for (FaultKind k : values()) {
            if (k.flagName().equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown fault kind " + name + "; one of " + String.join(", ", names()));
    }

    public static java.util.List<String> names() {
        return java.util.Arrays.stream(values()).map(FaultKind::flagName).toList();
    }
}
