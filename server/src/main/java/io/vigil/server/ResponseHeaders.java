package io.vigil.server;

import io.vigil.proto.etcdserverpb.ResponseHeader;
import java.util.function.LongSupplier;

/**
 * The identity every response header carries, and the member's current Raft term; the revision
 * comes from the request's result.
 */
record ResponseHeaders(long clusterId, long memberId, LongSupplier raftTerm) {
    ResponseHeader at(long revision) {
        return ResponseHeader.newBuilder()
                .setClusterId(clusterId)
                .setMemberId(memberId)
                .setRevision(revision)
                .setRaftTerm(raftTerm.getAsLong())
                .build();
    }
}
