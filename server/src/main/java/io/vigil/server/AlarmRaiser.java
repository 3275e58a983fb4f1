package io.vigil.server;

import io.vigil.proto.etcdserverpb.AlarmRequest;
import io.vigil.proto.etcdserverpb.AlarmType;
import io.vigil.proto.internal.InternalRequest;

/**
 * Raises an etcd alarm against a member (this one at its space quota, another that the
 * corruption check caught): one line in the log, and an ACTIVATE proposed through the log, so
 * every member holds the alarm from that entry on and refuses writes as etcd does (the store's
 * alarms). Raising an alarm that is already active changes nothing.
 */
final class AlarmRaiser {
    private final Proposer proposer;

    AlarmRaiser(Proposer proposer) {
        this.proposer = proposer;
    }

    void raise(long memberId, AlarmType type) {
        VigilServer.LOG.log(System.Logger.Level.ERROR, "alarm " + type + " raised against member " + Long.toHexString(memberId));
        proposer.propose(InternalRequest.newBuilder().setAlarm(AlarmRequest.newBuilder()
                .setAction(AlarmRequest.AlarmAction.ACTIVATE).setMemberID(memberId).setAlarm(type)).build());
    }
}
