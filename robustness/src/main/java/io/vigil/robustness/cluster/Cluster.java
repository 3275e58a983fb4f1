package io.vigil.robustness.cluster;

import io.vigil.testkit.FaultProxy;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A cluster under test: real server processes on 127.0.0.1, every peer link through a
 * {@link FaultProxy}. Members are named {@code m1, m2, ...}; a name, a port and a data directory
 * are never reused within a run. Faults are meant one at a time (the nemesis heals one before it
 * injects the next); each method returns when the fault is in place (or the member is back).
 *
 * <p>Implementations: {@link VigilCluster} (bin/vigil) and {@link EtcdCluster} (etcd 3.4).
 */
public interface Cluster extends AutoCloseable {
    /** "vigil" or "etcd". */
    String kind();

    /** Starts every member and returns once they answer with a leader. */
    void start();

    /** The current members, in order of creation (a removed member is gone, its replacement last). */
    List<Member> members();

    /** The current members' client endpoints (host:port). */
    default List<String> endpoints() {
        return members().stream().map(Member::endpoint).toList();
    }

    /** SIGKILL: no shutdown, no flush. */
    void kill(Member m);

    /** Starts a killed member again, on its data directory, ports and flags; returns when it answers. */
    void restart(Member m);

    /** SIGSTOP. */
    void pause(Member m);

    /** SIGCONT. */
    void resume(Member m);

    /** Blackholes every peer link into and out of {@code m} (held bytes, as TCP retransmits them). */
    void isolate(Member m);

    /**
     * Blackholes every peer link into and out of {@code m}, losing bytes (a partition that outlasts
     * TCP's retransmissions): the connections that lost bytes are reset by {@link #heal()}.
     */
    void isolateDropping(Member m);

    /** Opens every peer link again (ends isolations and delays). */
    void heal();

    /** Adds {@code oneWay} of latency to every peer link into and out of {@code m} (zero: none). */
    void delay(Member m, Duration oneWay);

    /**
     * The member that calls itself leader (Maintenance Status: {@code leader == header.member_id})
     * at the highest term among the members that answer; empty when none does.
     */
    Optional<Member> leader();

    /** Maintenance MoveLeader to {@code to}, sent to the current leader; returns once {@code to} leads. */
    void moveLeader(Member to);

    /**
     * Cluster MemberRemove of {@code m}, stops its process and deletes its data; then MemberAdd of
     * a new member (new name, new ports), started to join the running cluster. Returns the new one.
     */
    Member removeAndAdd(Member m);

    /**
     * Cluster MemberAdd of a new member (new name, new ports), started with
     * {@code --initial-cluster-state existing}; returns once it answers.
     */
    Member addMember();

    /** Maintenance Defragment on {@code m}. */
    void defragment(Member m);

    /**
     * Returns once every member is running and not paused, all name the same leader, and each
     * serves a linearizable read; throws {@link IllegalStateException} after {@code timeout}.
     */
    void awaitHealthy(Duration timeout);

    /**
     * The store's revision as a linearizable read sees it, from the first member that answers one
     * within {@code timeout}: every write acknowledged before the call is at or below it.
     */
    long linearizableRevision(Duration timeout);

    /** Stops every member (SIGTERM, SIGKILL after 10 s) and every proxy. */
    @Override
    void close();
}
