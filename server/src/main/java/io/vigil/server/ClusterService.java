package io.vigil.server;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.vigil.consensus.raft.ConfChange;
import io.vigil.consensus.raft.Status;
import io.vigil.proto.etcdserverpb.ClusterGrpc;
import io.vigil.proto.etcdserverpb.Member;
import io.vigil.proto.etcdserverpb.MemberAddRequest;
import io.vigil.proto.etcdserverpb.MemberAddResponse;
import io.vigil.proto.etcdserverpb.MemberListRequest;
import io.vigil.proto.etcdserverpb.MemberListResponse;
import io.vigil.proto.etcdserverpb.MemberPromoteRequest;
import io.vigil.proto.etcdserverpb.MemberPromoteResponse;
import io.vigil.proto.etcdserverpb.MemberRemoveRequest;
import io.vigil.proto.etcdserverpb.MemberRemoveResponse;
import io.vigil.proto.etcdserverpb.MemberUpdateRequest;
import io.vigil.proto.etcdserverpb.MemberUpdateResponse;
import io.vigil.proto.internal.MemberRecord;
import io.vigil.proto.internal.MembershipHistory;
import io.vigil.proto.internal.MembershipPeerGrpc;
import io.vigil.proto.internal.MembershipRequest;
import io.vigil.revlog.RevLog;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * etcd's Cluster service over the {@link Membership} the applied log makes. Add, remove, update
 * and promote are checked here as etcd checks them (its messages; with etcd 3.4's default
 * {@code --strict-reconfig-check}, a change that would leave fewer started voters than a quorum
 * is refused), then proposed as conf changes and answered once applied on this member. Promote
 * needs the learner's progress, which only the leader knows: a follower carries it to the leader
 * ({@link Peer}). Unlike etcd, a cluster may have any number of learners.
 *
 * <p>A member's name and client URLs are what it published through the log
 * ({@link MemberPublisher}); until it has, it has no client URLs, and a member added at run time
 * no name either: etcd's unstarted member, which does not count as started (an initial member is
 * named from the bootstrap, as in etcd). This member lists itself as its flags make it, and is
 * always started.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {
    /** etcd's readyPercent: a learner whose log is at least this share of the leader's may be promoted. */
    static final double LEARNER_READY = 0.9;

    private final Membership membership;
    private final long selfId;
    private final String selfName;
    private final List<URI> selfClientUrls;
    private final RevLog revLog;
    private final ResponseHeaders headers;
    private final ReplicatedLog log;
    private final PeerChannels peers;
    private final long requestTimeoutMs;

    ClusterService(Membership membership, long selfId, String selfName, List<URI> selfClientUrls, RevLog revLog, ResponseHeaders headers,
                   ReplicatedLog log, PeerChannels peers, long requestTimeoutMs) {
        this.membership = membership;
        this.selfId = selfId;
        this.selfName = selfName;
        this.selfClientUrls = selfClientUrls;
        this.revLog = revLog;
        this.headers = headers;
        this.log = log;
        this.peers = peers;
        this.requestTimeoutMs = requestTimeoutMs;
    }

    /** Whether {@code m} has published its attributes (etcd's IsStarted), or is this member. */
    private boolean started(Membership.Member m) {
        return m.id() == selfId || m.started();
    }

    @Override
    public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> out) {
        out.onNext(MemberListResponse.newBuilder().setHeader(header()).addAllMembers(members()).build());
        out.onCompleted();
    }

    @Override
    public void memberAdd(MemberAddRequest request, StreamObserver<MemberAddResponse> out) {
        List<URI> urls = peerUrls(request.getPeerURLsList());
        if (urls == null) {
            out.onError(EtcdErrors.MEMBER_BAD_URLS);
            return;
        }
        // etcd checks the caller after the URLs (the other changes are checked by AuthCalls)
        StatusRuntimeException refused = AuthCalls.current(revLog.auth()).adminRefusal();
        if (refused != null) {
            out.onError(refused);
            return;
        }
        if (urlTaken(urls, 0)) {
            out.onError(EtcdErrors.PEER_URL_EXIST);
            return;
        }
        // etcd's NewMember for member add: the peer URLs and the time, so a re-added URL gets a new id
        long id = Members.memberId(urls, Long.toString(System.currentTimeMillis() / 1000));
        if (membership.member(id) != null || membership.isRemoved(id) || id == 0) {
            out.onError(EtcdErrors.MEMBER_EXIST);
            return;
        }
        if (!request.getIsLearner() && !readyToAddVoter()) {
            out.onError(EtcdErrors.MEMBER_NOT_ENOUGH_STARTED);
            return;
        }
        MemberRecord.Builder added = MemberRecord.newBuilder().setId(id).setIsLearner(request.getIsLearner());
        urls.forEach(u -> added.addPeerUrls(u.toString()));
        ConfChange.Type type = request.getIsLearner() ? ConfChange.Type.ADD_LEARNER : ConfChange.Type.ADD_VOTER;
        answer(log.proposeMemberChange(type, id, added.build()), EtcdErrors.MEMBER_EXIST, out,
                members -> MemberAddResponse.newBuilder().setHeader(header())
                        .setMember(members.stream().filter(m -> m.getID() == id).findFirst().orElseThrow())
                        .addAllMembers(members).build());
    }

    @Override
    public void memberRemove(MemberRemoveRequest request, StreamObserver<MemberRemoveResponse> out) {
        Membership.Member m = membership.member(request.getID());
        if (m == null) {
            out.onError(EtcdErrors.MEMBER_NOT_FOUND);
            return;
        }
        if (!m.learner() && !readyToRemoveVoter(m.id())) {
            out.onError(EtcdErrors.MEMBER_NOT_ENOUGH_STARTED);
            return;
        }
        answer(log.proposeMemberChange(ConfChange.Type.REMOVE, m.id(), m.toRecord()), EtcdErrors.MEMBER_NOT_FOUND, out,
                members -> MemberRemoveResponse.newBuilder().setHeader(header()).addAllMembers(members).build());
    }

    @Override
    public void memberUpdate(MemberUpdateRequest request, StreamObserver<MemberUpdateResponse> out) {
        Membership.Member m = membership.member(request.getID());
        if (m == null) {
            out.onError(EtcdErrors.MEMBER_NOT_FOUND);
            return;
        }
        List<URI> urls = peerUrls(request.getPeerURLsList());
        if (urls == null) {
            out.onError(EtcdErrors.MEMBER_BAD_URLS);
            return;
        }
        if (urlTaken(urls, m.id())) {
            out.onError(EtcdErrors.PEER_URL_EXIST);
            return;
        }
        MemberRecord updated = m.withRaft(urls, m.learner()).toRecord();
        answer(log.proposeMemberChange(ConfChange.Type.UPDATE, m.id(), updated), EtcdErrors.MEMBER_NOT_FOUND, out,
                members -> MemberUpdateResponse.newBuilder().setHeader(header()).addAllMembers(members).build());
    }

    @Override
    public void memberPromote(MemberPromoteRequest request, StreamObserver<MemberPromoteResponse> out) {
        if (log.isLeader()) {
            promoteAsLeader(request, out);
            return;
        }
        ManagedChannel leader = peers.to(log.node().leaderId());
        if (leader == null) {
            out.onError(EtcdErrors.NO_LEADER);
            return;
        }
        PeerChannels.completable(MembershipPeerGrpc.newFutureStub(leader)
                .withDeadlineAfter(requestTimeoutMs, TimeUnit.MILLISECONDS).promote(request))
                .whenComplete((resp, failure) -> {
                    if (failure != null) {
                        out.onError(EtcdErrors.toStatus(failure));
                    } else {
                        // the leader's answer, with this member's header and its view once it has applied the change
                        out.onNext(resp);
                        out.onCompleted();
                    }
                });
    }

    private void promoteAsLeader(MemberPromoteRequest request, StreamObserver<MemberPromoteResponse> out) {
        Membership.Member m = membership.member(request.getID());
        if (m == null) {
            out.onError(EtcdErrors.MEMBER_NOT_FOUND);
            return;
        }
        if (!m.learner()) {
            out.onError(EtcdErrors.MEMBER_NOT_LEARNER);
            return;
        }
        log.node().status().orTimeout(requestTimeoutMs, TimeUnit.MILLISECONDS).whenComplete((status, failure) -> {
            if (failure != null) {
                out.onError(EtcdErrors.toStatus(failure));
            } else if (!learnerReady(status, m.id())) {
                out.onError(EtcdErrors.LEARNER_NOT_READY);
            } else if (!readyToAddVoter()) {
                out.onError(EtcdErrors.MEMBER_NOT_ENOUGH_STARTED);
            } else {
                answer(log.proposeMemberChange(ConfChange.Type.ADD_VOTER, m.id(), m.toRecord()),
                        EtcdErrors.MEMBER_NOT_LEARNER, out,
                        members -> MemberPromoteResponse.newBuilder().setHeader(header()).addAllMembers(members).build());
            }
        });
    }

    /** etcd's isLearnerReady: the learner's log reaches {@link #LEARNER_READY} of the leader's. */
    private static boolean learnerReady(Status status, long learner) {
        Status.PeerProgress leader = status.progress().get(status.id());
        Status.PeerProgress p = status.progress().get(learner);
        return leader != null && p != null && p.match() >= LEARNER_READY * leader.match();
    }

    /** etcd's IsReadyToAddVotingMember: the started voters still make a quorum once one more votes. */
    private boolean readyToAddVoter() {
        int voters = 1;
        int started = 0;
        for (Membership.Member m : membership.members().values()) {
            if (!m.learner()) {
                voters++;
                started += started(m) ? 1 : 0;
            }
        }
        return started >= voters / 2 + 1;
    }

    /** etcd's IsReadyToRemoveVotingMember: the other started voters make a quorum of the voters left. */
    private boolean readyToRemoveVoter(long removed) {
        int voters = 0;
        int started = 0;
        for (Membership.Member m : membership.members().values()) {
            if (!m.learner() && m.id() != removed) {
                voters++;
                started += started(m) ? 1 : 0;
            }
        }
        return started >= voters / 2 + 1;
    }

    private boolean urlTaken(List<URI> urls, long except) {
        for (Membership.Member m : membership.members().values()) {
            if (m.id() != except && urls.stream().anyMatch(m.peerUrls()::contains)) {
                return true;
            }
        }
        return false;
    }

    /** The peer URLs of a request, or null when one is not a URL etcd takes. */
    private static List<URI> peerUrls(List<String> given) {
        if (given.isEmpty()) {
            return null;
        }
        try {
            return Urls.parse(String.join(",", given));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Answers once the change is applied here: the response made from the members then, or {@code refused}. */
    private <R> void answer(CompletableFuture<Boolean> applied, RuntimeException refused, StreamObserver<R> out,
                            Function<List<Member>, R> response) {
        applied.whenComplete((tookEffect, failure) -> {
            if (failure != null) {
                out.onError(EtcdErrors.toStatus(failure));
            } else if (!tookEffect) {
                out.onError(refused);
            } else {
                out.onNext(response.apply(members()));
                out.onCompleted();
            }
        });
    }

    private io.vigil.proto.etcdserverpb.ResponseHeader header() {
        return headers.at(revLog.currentRevision());
    }

    /** The members now, as etcd lists them. */
    private List<Member> members() {
        List<Member> out = new ArrayList<>();
        for (Membership.Member m : membership.members().values()) {
            Member.Builder b = Member.newBuilder().setID(m.id()).setIsLearner(m.learner());
            m.peerUrls().forEach(u -> b.addPeerURLs(u.toString()));
            if (m.id() == selfId) {
                b.setName(selfName);
                selfClientUrls.forEach(u -> b.addClientURLs(u.toString()));
            } else {
                b.setName(m.name()).addAllClientURLs(m.clientUrls());
            }
            out.add(b.build());
        }
        return out;
    }

    /** What peers ask of this member: the membership (a member that joins), and promote (the leader). */
    final class Peer extends MembershipPeerGrpc.MembershipPeerImplBase {
        @Override
        public void history(MembershipRequest request, StreamObserver<MembershipHistory> out) {
            out.onNext(membership.history());
            out.onCompleted();
        }

        @Override
        public void promote(MemberPromoteRequest request, StreamObserver<MemberPromoteResponse> out) {
            if (!log.isLeader()) {
                out.onError(EtcdErrors.NOT_LEADER);
                return;
            }
            promoteAsLeader(request, out);
        }
    }
}
