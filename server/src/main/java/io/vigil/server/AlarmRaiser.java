package io.vigil.server;

import io.vigil.proto.etcdserverpb.AlarmType;

/**
 * Raises an etcd alarm against a member. The replicated alarms (etcd's AlarmRequest through the
 * log, AlarmList, the NOSPACE quota alarm) are being built separately; until they are wired in,
 * {@link #LOGGING} reports the alarm as an error in the log and nothing else changes.
 */
@FunctionalInterface
interface AlarmRaiser {
    void raise(long memberId, AlarmType type);

    AlarmRaiser LOGGING = (memberId, type) -> VigilServer.LOG.log(System.Logger.Level.ERROR,
            "alarm " + type + " raised against member " + Long.toHexString(memberId));
}
