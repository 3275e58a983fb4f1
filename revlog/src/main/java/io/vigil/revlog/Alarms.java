package io.vigil.revlog;

import io.vigil.proto.etcdserverpb.AlarmMember;
import io.vigil.proto.etcdserverpb.AlarmRequest;
import io.vigil.proto.etcdserverpb.AlarmResponse;
import io.vigil.proto.etcdserverpb.AlarmType;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.internal.InternalRequest;
import java.util.ArrayList;
import java.util.List;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.KeyRange;
import org.lmdbjava.Txn;

/**
 * The cluster's alarms (etcd's alarm store): raised and disarmed through the log, so every member
 * holds the same ones at the same index, and kept in the store's {@code alarm} database (key:
 * 8-byte member id then 4-byte alarm type; no value), so they outlive a restart and travel in
 * snapshots. While one is active the store refuses writes as etcd's appliers do: NOSPACE refuses
 * what adds data (puts, txns with a put, lease grants), CORRUPT every write.
 *
 * <p>Threads: changed by the apply thread only; {@link #active} may be read from any thread.
 */
final class Alarms {
    private volatile List<AlarmMember> active;

    private Alarms(List<AlarmMember> active) {
        this.active = List.copyOf(active);
    }

    static Alarms load(LmdbStore store, Txn<byte[]> txn) {
        List<AlarmMember> out = new ArrayList<>();
        try (CursorIterable<byte[]> all = store.alarm.iterate(txn, KeyRange.all())) {
            for (CursorIterable.KeyVal<byte[]> r : all) {
                byte[] k = r.key();
                long member = 0;
                for (int i = 0; i < 8; i++) {
                    member = (member << 8) | (k[i] & 0xff);
                }
                int type = ((k[8] & 0xff) << 24) | ((k[9] & 0xff) << 16) | ((k[10] & 0xff) << 8) | (k[11] & 0xff);
                out.add(AlarmMember.newBuilder().setMemberID(member).setAlarmValue(type).build());
            }
        }
        return new Alarms(out);
    }

    /** The active alarms, ordered by member id then type. */
    List<AlarmMember> active() {
        return active;
    }

    /**
     * Applies an alarm request as etcd's applier does: ACTIVATE adds the alarm (and answers with
     * it), DEACTIVATE removes it (answering with it when it was active), GET answers with them all.
     * Activating NONE, or an unknown action, changes nothing and answers with nothing.
     */
    AlarmResponse apply(LmdbStore store, Txn<byte[]> txn, AlarmRequest request) {
        // by number: an alarm type this build does not know must not fail the apply (it matches nothing)
        AlarmMember m = AlarmMember.newBuilder().setMemberID(request.getMemberID()).setAlarmValue(request.getAlarmValue()).build();
        AlarmResponse.Builder resp = AlarmResponse.newBuilder();
        List<AlarmMember> next = new ArrayList<>(active);
        switch (request.getAction()) {
            case GET -> resp.addAllAlarms(active);
            case ACTIVATE -> {
                if (request.getAlarm() != AlarmType.NONE && request.getAlarm() != AlarmType.UNRECOGNIZED) {
                    if (!next.contains(m)) {
                        next.add(m);
                        store.alarm.put(txn, key(m), new byte[0]);
                    }
                    resp.addAlarms(m);
                }
            }
            case DEACTIVATE -> {
                if (next.remove(m)) {
                    store.alarm.delete(txn, key(m));
                    resp.addAlarms(m);
                }
            }
            default -> {
            }
        }
        next.sort((a, b) -> a.getMemberID() != b.getMemberID()
                ? Long.compareUnsigned(a.getMemberID(), b.getMemberID()) : Integer.compare(a.getAlarmValue(), b.getAlarmValue()));
        active = List.copyOf(next);
        return resp.build();
    }

    /** Why an active alarm refuses {@code request} on every member, or null when none does. */
    RevLogException refusal(InternalRequest request) {
        List<AlarmMember> now = active;
        if (now.isEmpty()) {
            return null;
        }
        boolean corrupt = false;
        boolean noSpace = false;
        for (AlarmMember a : now) {
            corrupt |= a.getAlarm() == AlarmType.CORRUPT;
            noSpace |= a.getAlarm() == AlarmType.NOSPACE;
        }
        if (corrupt) {
            switch (request.getRequestCase()) {
                case PUT, DELETE_RANGE, TXN, COMPACTION, LEASE_GRANT, LEASE_REVOKE -> {
                    return new RevLogException(RevLogException.Code.CORRUPT);
                }
                default -> {
                }
            }
        }
        if (noSpace) {
            boolean adds = switch (request.getRequestCase()) {
                case PUT, LEASE_GRANT -> true;
                case TXN -> putsData(request.getTxn());
                default -> false;
            };
            if (adds) {
                return new RevLogException(RevLogException.Code.NO_SPACE);
            }
        }
        return null;
    }

    /** etcd's quota cost of a txn is above 0: a branch holds a put (nested txns are not counted, as in etcd). */
    private static boolean putsData(TxnRequest txn) {
        for (List<RequestOp> ops : List.of(txn.getSuccessList(), txn.getFailureList())) {
            for (RequestOp op : ops) {
                if (op.hasRequestPut()) {
                    return true;
                }
            }
        }
        return false;
    }

    private static byte[] key(AlarmMember m) {
        byte[] k = new byte[12];
        long id = m.getMemberID();
        for (int i = 0; i < 8; i++) {
            k[i] = (byte) (id >>> (56 - 8 * i));
        }
        int t = m.getAlarmValue();
        for (int i = 0; i < 4; i++) {
            k[8 + i] = (byte) (t >>> (24 - 8 * i));
        }
        return k;
    }
}
