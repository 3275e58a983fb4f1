package io.vigil.server;

import io.grpc.MethodDescriptor;
import io.vigil.proto.etcdserverpb.AuthGrpc;
import io.vigil.proto.etcdserverpb.ClusterGrpc;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.v3electionpb.ElectionGrpc;
import io.vigil.proto.v3lockpb.LockGrpc;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * etcd 3.4's grpc-gateway paths (the {@code google.api.http} options of its rpc.proto,
 * v3lock.proto and v3election.proto; every one is {@code POST} with the whole body as the
 * request): each maps to the gRPC method it calls. etcd 3.4 serves each path under {@code /v3/}
 * and, deprecated, under {@code /v3beta/}.
 *
 * <p>Where etcd's table maps one path twice, the method etcd's gateway calls is the one here:
 * {@code /v3/maintenance/hash} is Hash, never HashKV (checked against etcd 3.4.23). Methods etcd
 * 3.4 has no path for (HashKV so, Downgrade, AuthStatus) have none here.
 */
final class GatewayRoutes {
    private static final Map<String, MethodDescriptor<?, ?>> BY_PATH = table();

    private GatewayRoutes() {
    }

    /** The method served at {@code path} (without query), or null. */
    static MethodDescriptor<?, ?> method(String path) {
        if (path.startsWith("/v3beta/")) {
            path = "/v3/" + path.substring("/v3beta/".length());
        }
        return BY_PATH.get(path);
    }

    /** Every path under /v3/, in etcd's order, and its method. */
    static Map<String, MethodDescriptor<?, ?>> all() {
        return BY_PATH;
    }

    private static Map<String, MethodDescriptor<?, ?>> table() {
        Map<String, MethodDescriptor<?, ?>> t = new LinkedHashMap<>();
        t.put("/v3/kv/range", KVGrpc.getRangeMethod());
        t.put("/v3/kv/put", KVGrpc.getPutMethod());
        t.put("/v3/kv/deleterange", KVGrpc.getDeleteRangeMethod());
        t.put("/v3/kv/txn", KVGrpc.getTxnMethod());
        t.put("/v3/kv/compaction", KVGrpc.getCompactMethod());
        t.put("/v3/watch", WatchGrpc.getWatchMethod());
        t.put("/v3/lease/grant", LeaseGrpc.getLeaseGrantMethod());
        t.put("/v3/lease/revoke", LeaseGrpc.getLeaseRevokeMethod());
        t.put("/v3/kv/lease/revoke", LeaseGrpc.getLeaseRevokeMethod());
        t.put("/v3/lease/keepalive", LeaseGrpc.getLeaseKeepAliveMethod());
        t.put("/v3/lease/timetolive", LeaseGrpc.getLeaseTimeToLiveMethod());
        t.put("/v3/kv/lease/timetolive", LeaseGrpc.getLeaseTimeToLiveMethod());
        t.put("/v3/lease/leases", LeaseGrpc.getLeaseLeasesMethod());
        t.put("/v3/kv/lease/leases", LeaseGrpc.getLeaseLeasesMethod());
        t.put("/v3/cluster/member/add", ClusterGrpc.getMemberAddMethod());
        t.put("/v3/cluster/member/remove", ClusterGrpc.getMemberRemoveMethod());
        t.put("/v3/cluster/member/update", ClusterGrpc.getMemberUpdateMethod());
        t.put("/v3/cluster/member/list", ClusterGrpc.getMemberListMethod());
        t.put("/v3/cluster/member/promote", ClusterGrpc.getMemberPromoteMethod());
        t.put("/v3/maintenance/alarm", MaintenanceGrpc.getAlarmMethod());
        t.put("/v3/maintenance/status", MaintenanceGrpc.getStatusMethod());
        t.put("/v3/maintenance/defragment", MaintenanceGrpc.getDefragmentMethod());
        t.put("/v3/maintenance/hash", MaintenanceGrpc.getHashMethod());
        t.put("/v3/maintenance/snapshot", MaintenanceGrpc.getSnapshotMethod());
        t.put("/v3/maintenance/transfer-leadership", MaintenanceGrpc.getMoveLeaderMethod());
        t.put("/v3/auth/enable", AuthGrpc.getAuthEnableMethod());
        t.put("/v3/auth/disable", AuthGrpc.getAuthDisableMethod());
        t.put("/v3/auth/authenticate", AuthGrpc.getAuthenticateMethod());
        t.put("/v3/auth/user/add", AuthGrpc.getUserAddMethod());
        t.put("/v3/auth/user/get", AuthGrpc.getUserGetMethod());
        t.put("/v3/auth/user/list", AuthGrpc.getUserListMethod());
        t.put("/v3/auth/user/delete", AuthGrpc.getUserDeleteMethod());
        t.put("/v3/auth/user/changepw", AuthGrpc.getUserChangePasswordMethod());
        t.put("/v3/auth/user/grant", AuthGrpc.getUserGrantRoleMethod());
        t.put("/v3/auth/user/revoke", AuthGrpc.getUserRevokeRoleMethod());
        t.put("/v3/auth/role/add", AuthGrpc.getRoleAddMethod());
        t.put("/v3/auth/role/get", AuthGrpc.getRoleGetMethod());
        t.put("/v3/auth/role/list", AuthGrpc.getRoleListMethod());
        t.put("/v3/auth/role/delete", AuthGrpc.getRoleDeleteMethod());
        t.put("/v3/auth/role/grant", AuthGrpc.getRoleGrantPermissionMethod());
        t.put("/v3/auth/role/revoke", AuthGrpc.getRoleRevokePermissionMethod());
        t.put("/v3/lock/lock", LockGrpc.getLockMethod());
        t.put("/v3/lock/unlock", LockGrpc.getUnlockMethod());
        t.put("/v3/election/campaign", ElectionGrpc.getCampaignMethod());
        t.put("/v3/election/proclaim", ElectionGrpc.getProclaimMethod());
        t.put("/v3/election/leader", ElectionGrpc.getLeaderMethod());
        t.put("/v3/election/observe", ElectionGrpc.getObserveMethod());
        t.put("/v3/election/resign", ElectionGrpc.getResignMethod());
        return Collections.unmodifiableMap(t);
    }
}
