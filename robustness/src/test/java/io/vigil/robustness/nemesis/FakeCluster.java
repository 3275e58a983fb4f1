package io.vigil.robustness.nemesis;

import io.vigil.robustness.cluster.Cluster;
import io.vigil.robustness.cluster.Member;
import io.vigil.robustness.cluster.TestMembers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/** A cluster that only records what it was asked to do; m1 leads until leadership moves. */
final class FakeCluster implements Cluster {
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private final List<Member> members = Collections.synchronizedList(new ArrayList<>());
    private volatile Member leader;
    private int nextSlot;

    FakeCluster() {
        for (int i = 0; i < 3; i++) {
            members.add(TestMembers.member(nextSlot++));
        }
        leader = members.get(0);
    }

    @Override
    public String kind() {
        return "fake";
    }

    @Override
    public void start() {
    }

    @Override
    public List<Member> members() {
        return List.copyOf(members);
    }

    @Override
    public void kill(Member m) {
        calls.add("kill " + m.name());
    }

    @Override
    public void restart(Member m) {
        // the nemesis restarts every member it sees not running, and these have no process
    }

    @Override
    public void pause(Member m) {
        calls.add("pause " + m.name());
    }

    @Override
    public void resume(Member m) {
        calls.add("resume " + m.name());
    }

    @Override
    public void isolate(Member m) {
        calls.add("isolate " + m.name());
    }

    @Override
    public void isolateDropping(Member m) {
        calls.add("isolate-dropping " + m.name());
    }

    @Override
    public void heal() {
        calls.add("heal");
    }

    @Override
    public void delay(Member m, Duration oneWay) {
        calls.add("delay " + m.name() + " " + oneWay.toMillis());
    }

    @Override
    public Optional<Member> leader() {
        return Optional.of(leader);
    }

    @Override
    public void moveLeader(Member to) {
        calls.add("move-leader " + to.name());
        leader = to;
    }

    @Override
    public synchronized Member removeAndAdd(Member m) {
        calls.add("remove-add " + m.name());
        members.remove(m);
        Member added = TestMembers.member(nextSlot++);
        members.add(added);
        if (leader == m) {
            leader = members.get(0);
        }
        return added;
    }

    @Override
    public synchronized Member addMember() {
        calls.add("add");
        Member added = TestMembers.member(nextSlot++);
        members.add(added);
        return added;
    }

    @Override
    public void defragment(Member m) {
        calls.add("defragment " + m.name());
    }

    @Override
    public void awaitHealthy(Duration timeout) {
    }

    @Override
    public long linearizableRevision(Duration timeout) {
        throw new UnsupportedOperationException("the fake cluster stores nothing");
    }

    @Override
    public void close() {
    }
}
