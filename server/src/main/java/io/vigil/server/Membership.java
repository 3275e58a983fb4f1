package io.vigil.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vigil.consensus.raft.ConfChange;
import io.vigil.consensus.raft.ConfState;
import io.vigil.proto.internal.AppliedMemberChange;
import io.vigil.proto.internal.MemberAttributes;
import io.vigil.proto.internal.MemberRecord;
import io.vigil.proto.internal.MembershipHistory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The cluster's members as the applied log makes them, kept durably in the file
 * {@code membership} beside the store: the bootstrap voters (the configuration of the bootstrap
 * snapshot at index 1) and every change that took effect, with its log index. So the
 * configuration at any index is known, which a restart needs: the Raft core starts from the
 * configuration at its commit index ({@link #confAt}).
 *
 * <p>Changes are decided here, on the apply thread, in log order, against the members as the
 * entries before them left them; every member decides the same, so a change refused here (a
 * member already there, a peer URL taken, an id once removed) is refused everywhere, and the Raft
 * core is told only of changes that took effect. A change is written to the file before its
 * entry counts as applied; applying an index again (a restart replays the log above the commit
 * index the WAL kept) finds it in the history and decides as before.
 *
 * <p>What a member publishes about itself (name, client URLs: {@link #publish}) is applied the
 * same way, in log order and durably, and kept for the current members only. An index at or
 * below the history's applied index (conf change and attributes entries alike) was applied
 * before and changes nothing: replaying an older publish must not undo a later one.
 *
 * <p>Threads: {@link #apply} on the apply thread only; readers get immutable views.
 */
final class Membership {
    static final String FILE = "membership";

    /**
     * A member: its peer URLs and whether it only learns (what conf changes make), and its name
     * and client URLs. The name of an initial member is its {@code --initial-cluster} name from
     * the start (as etcd bootstraps it); a member added later has none, and no member has client
     * URLs, until it publishes them.
     */
    record Member(long id, List<URI> peerUrls, boolean learner, String name, List<String> clientUrls) {
        /** A member without a name or client URLs. */
        Member(long id, List<URI> peerUrls, boolean learner) {
            this(id, peerUrls, learner, "", List.of());
        }

        /** etcd's IsStarted: it has a name (it published, or is an initial member). */
        boolean started() {
            return !name.isEmpty();
        }

        /** What a conf change or the bootstrap carries: the member without its client URLs. */
        MemberRecord toRecord() {
            MemberRecord.Builder b = MemberRecord.newBuilder().setId(id).setName(name).setIsLearner(learner);
            peerUrls.forEach(u -> b.addPeerUrls(u.toString()));
            return b.build();
        }

        static Member of(MemberRecord r) {
            List<URI> urls = new ArrayList<>();
            r.getPeerUrlsList().forEach(u -> urls.add(URI.create(u)));
            return new Member(r.getId(), List.copyOf(urls), r.getIsLearner(), r.getName(), List.of());
        }

        Member withRaft(List<URI> peerUrls, boolean learner) {
            return new Member(id, peerUrls, learner, name, clientUrls);
        }
    }

    private final Path file;
    private MembershipHistory history;
    /** The members now, by id (unsigned order, as etcd lists them). */
    private volatile Map<Long, Member> members;
    private volatile Set<Long> removed;

    private Membership(Path file, MembershipHistory history) {
        this.file = file;
        this.history = history;
        fold();
    }

    /** The membership kept in {@code dataDir}, or null when it has none yet. */
    static Membership load(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) {
            return null;
        }
        try {
            return new Membership(file, MembershipHistory.parseFrom(Files.readAllBytes(file)));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(file + " is damaged: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Starts the history of a cluster whose bootstrap snapshot has {@code voters}, and writes it. */
    static Membership create(Path dataDir, long clusterId, List<Member> voters) {
        MembershipHistory.Builder h = MembershipHistory.newBuilder().setClusterId(clusterId);
        voters.forEach(m -> h.addBootstrap(m.toRecord()));
        Membership created = new Membership(dataDir.resolve(FILE), h.build());
        created.write();
        return created;
    }

    long clusterId() {
        return history.getClusterId();
    }

    /** The members now, by id in unsigned order. */
    Map<Long, Member> members() {
        return members;
    }

    Member member(long id) {
        return members.get(id);
    }

    /** Whether {@code id} was a member once and was removed (etcd never lets it back). */
    boolean isRemoved(long id) {
        return removed.contains(id);
    }

    /** The history as a peer that joins asks for it. */
    synchronized MembershipHistory history() {
        return history;
    }

    /**
     * The history as of {@code index}, for a snapshot of the store at that index: the changes up
     * to it, and every conf change entry up to it counted as looked at. The apply thread has
     * decided every conf change up to the store's applied index before the store reached it.
     */
    synchronized MembershipHistory historyAt(long index) {
        MembershipHistory.Builder h = history.toBuilder().clearChanges().setAppliedIndex(index);
        history.getChangesList().stream().filter(c -> c.getIndex() <= index).forEach(h::addChanges);
        return h.build();
    }

    /** Replaces the membership kept in {@code dataDir} with {@code history} (a snapshot's, installed). */
    static void install(Path dataDir, MembershipHistory history) {
        DurableFile.write(dataDir.resolve(FILE), history.toByteArray());
    }

    /** The configuration in effect once every entry up to {@code index} is applied. */
    synchronized ConfState confAt(long index) {
        Map<Long, Member> at = changedUpTo(history, index, new HashSet<>());
        Set<Long> voters = new TreeSet<>();
        Set<Long> learners = new TreeSet<>();
        at.values().forEach(m -> (m.learner() ? learners : voters).add(m.id()));
        return new ConfState(voters, learners);
    }

    /**
     * Apply thread: the conf change entry at {@code index}. Returns whether it took effect (then
     * the Raft core must apply it too); a refused change leaves everything as it was.
     */
    synchronized boolean apply(long index, ConfChange cc, MemberRecord member) {
        if (index <= history.getAppliedIndex()) {
            return history.getChangesList().stream().anyMatch(c -> c.getIndex() == index);
        }
        MembershipHistory.Builder next = history.toBuilder().setAppliedIndex(index);
        String refusal = refusal(cc, member);
        if (refusal == null) {
            next.addChanges(AppliedMemberChange.newBuilder().setIndex(index).setType(cc.type().ordinal())
                    .setMember(member.toBuilder().setId(cc.nodeId())));
            if (cc.type() == ConfChange.Type.REMOVE) {
                dropPublished(next, cc.nodeId());
            }
        } else {
            VigilServer.LOG.log(System.Logger.Level.WARNING, "membership change at index " + index + " refused: " + refusal);
        }
        history = next.build();
        write();
        fold();
        return refusal == null;
    }

    /**
     * Apply thread: the attributes entry at {@code index}, which a member published about itself.
     * Returns whether they are recorded: attributes of an id that is not a member are ignored.
     */
    synchronized boolean publish(long index, MemberAttributes attributes) {
        long id = attributes.getMemberId();
        if (index <= history.getAppliedIndex()) {
            return members.containsKey(id);
        }
        MembershipHistory.Builder next = history.toBuilder().setAppliedIndex(index);
        boolean member = members.containsKey(id);
        if (member) {
            dropPublished(next, id);
            next.addPublished(attributes);
        } else {
            VigilServer.LOG.log(System.Logger.Level.INFO, String.format(
                    "attributes published at index %d for %x ignored: not a member", index, id));
        }
        history = next.build();
        write();
        fold();
        return member;
    }

    private static void dropPublished(MembershipHistory.Builder h, long id) {
        for (int i = h.getPublishedCount() - 1; i >= 0; i--) {
            if (h.getPublished(i).getMemberId() == id) {
                h.removePublished(i);
            }
        }
    }

    /** Why the change cannot take effect against the members now, or null when it can. */
    private String refusal(ConfChange cc, MemberRecord member) {
        long id = cc.nodeId();
        Member now = members.get(id);
        if (removed.contains(id)) {
            return String.format("member %x was removed", id);
        }
        switch (cc.type()) {
            case ADD_VOTER, ADD_LEARNER -> {
                if (now != null && !(cc.type() == ConfChange.Type.ADD_VOTER && now.learner())) {
                    return String.format("member %x is already a member", id);
                }
            }
            case REMOVE, UPDATE -> {
                if (now == null) {
                    return String.format("member %x is not a member", id);
                }
            }
        }
        if (cc.type() == ConfChange.Type.REMOVE || now != null && cc.type() == ConfChange.Type.ADD_VOTER) {
            return null;
        }
        for (Member other : members.values()) {
            for (String u : member.getPeerUrlsList()) {
                if (other.id() != id && other.peerUrls().contains(URI.create(u))) {
                    return "peer URL " + u + " is member " + Long.toHexString(other.id()) + "'s";
                }
            }
        }
        return null;
    }

    /** Rebuilds the views from the history. */
    private void fold() {
        Set<Long> gone = new HashSet<>();
        members = membersOf(history, gone);
        removed = Set.copyOf(gone);
    }

    /** The members once every change in {@code h} is applied; the removed ids are added to {@code removed}. */
    static Map<Long, Member> membersOf(MembershipHistory h, Set<Long> removed) {
        Map<Long, Member> at = changedUpTo(h, Long.MAX_VALUE, removed);
        for (MemberAttributes a : h.getPublishedList()) {
            Member m = at.get(a.getMemberId());
            if (m != null) {
                at.put(m.id(), new Member(m.id(), m.peerUrls(), m.learner(), a.getName(), List.copyOf(a.getClientUrlsList())));
            }
        }
        return Collections.unmodifiableMap(at);
    }

    /** The bootstrap voters with the changes up to {@code index} applied; the ids removed are added to {@code removed}. */
    private static Map<Long, Member> changedUpTo(MembershipHistory h, long index, Set<Long> removed) {
        Map<Long, Member> at = new TreeMap<>(Long::compareUnsigned);
        h.getBootstrapList().forEach(r -> at.put(r.getId(), Member.of(r)));
        for (AppliedMemberChange c : h.getChangesList()) {
            if (c.getIndex() <= index) {
                change(at, removed, c);
            }
        }
        return at;
    }

    /** The index of the last conf change or attributes entry applied. */
    synchronized long appliedIndex() {
        return history.getAppliedIndex();
    }

    private static void change(Map<Long, Member> at, Set<Long> gone, AppliedMemberChange c) {
        long id = c.getMember().getId();
        Member before = at.get(id);
        switch (ConfChange.Type.values()[c.getType()]) {
            case ADD_LEARNER -> at.put(id, Member.of(c.getMember().toBuilder().setIsLearner(true).build()));
            case ADD_VOTER -> at.put(id, before != null
                    ? before.withRaft(before.peerUrls(), false)
                    : Member.of(c.getMember().toBuilder().setIsLearner(false).build()));
            case REMOVE -> {
                at.remove(id);
                gone.add(id);
            }
            case UPDATE -> at.put(id, before.withRaft(Member.of(c.getMember()).peerUrls(), before.learner()));
        }
    }

    private void write() {
        DurableFile.write(file, history.toByteArray());
    }
}
