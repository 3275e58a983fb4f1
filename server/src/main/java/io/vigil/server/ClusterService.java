package io.vigil.server;

import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.ClusterGrpc;
import io.vigil.proto.etcdserverpb.Member;
import io.vigil.proto.etcdserverpb.MemberListRequest;
import io.vigil.proto.etcdserverpb.MemberListResponse;
import io.vigil.proto.internal.PeerHello;
import io.vigil.revlog.RevLog;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * etcd's Cluster service. The members are the initial cluster's; a member's name and client URLs
 * are shown once it has introduced itself on a peer stream (until then it is listed as etcd lists
 * an unstarted member: no name, no client URLs). Membership changes (add, remove, update,
 * promote) are not built yet and answer UNIMPLEMENTED.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {
    private final Members members;
    private final long selfId;
    private final List<URI> selfClientUrls;
    private final RevLog revLog;
    private final ResponseHeaders headers;
    private final Map<Long, PeerHello> introduced = new ConcurrentHashMap<>();

    ClusterService(Members members, long selfId, List<URI> selfClientUrls, RevLog revLog, ResponseHeaders headers) {
        this.members = members;
        this.selfId = selfId;
        this.selfClientUrls = selfClientUrls;
        this.revLog = revLog;
        this.headers = headers;
    }

    /** A peer opened a stream to this member, saying who it is. */
    void introduced(PeerHello hello) {
        if (members.byId().containsKey(hello.getMemberId())) {
            introduced.put(hello.getMemberId(), hello);
        }
    }

    @Override
    public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> out) {
        MemberListResponse.Builder resp = MemberListResponse.newBuilder().setHeader(headers.at(revLog.currentRevision()));
        for (Members.Member m : members.byId().values()) {
            Member.Builder b = Member.newBuilder().setID(m.id());
            m.peerUrls().forEach(u -> b.addPeerURLs(u.toString()));
            if (m.id() == selfId) {
                b.setName(m.name());
                selfClientUrls.forEach(u -> b.addClientURLs(u.toString()));
            } else {
                PeerHello hello = introduced.get(m.id());
                if (hello != null) {
                    b.setName(hello.getName()).addAllClientURLs(hello.getClientUrlsList());
                }
            }
            resp.addMembers(b);
        }
        out.onNext(resp.build());
        out.onCompleted();
    }
}
