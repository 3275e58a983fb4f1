package io.vigil.server;

import io.vigil.proto.etcdserverpb.ResponseHeader;

/** The identity every response header carries; the revision comes from the request's result. */
record ResponseHeaders(long clusterId, long memberId, long raftTerm) {
    ResponseHeader at(long revision) {
        return ResponseHeader.newBuilder()
                .setClusterId(clusterId)
                .setMemberId(memberId)
                .setRevision(revision)
                .setRaftTerm(raftTerm)
                .build();
    }
}
