package io.vigil.robustness.cluster;

import io.grpc.StatusRuntimeException;
import io.vigil.proto.etcdserverpb.Member;
import io.vigil.proto.etcdserverpb.MemberListResponse;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Membership changes as a careful operator makes them: sent to whichever member is the contact
 * now (the leader, or another running member while there is none), and tried again until they
 * took effect. A change can be refused for now (etcd's strict reconfiguration check answers
 * "unhealthy cluster" until enough members have been connected to the leader for 5 s, and "not
 * enough started members"), lost in a leader change, or time out with its outcome unknown; so
 * after a failure the member list says whether it took effect, and it is retried only if not.
 */
final class MembershipChanges {
    private static final long CALL_MS = 10_000;
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private MembershipChanges() {
    }

    /** Removes member {@code id}; returns once it is no longer listed. */
    static void remove(Admin admin, Supplier<io.vigil.robustness.cluster.Member> contact, long id) {
        retry("remove " + Long.toHexString(id), () -> {
            String endpoint = contact.get().endpoint();
            try {
                admin.memberRemove(endpoint, id, CALL_MS);
                return 0L;
            } catch (StatusRuntimeException e) {
                MemberListResponse list = listOrNull(admin, contact);
                if (list != null && list.getMembersList().stream().noneMatch(m -> m.getID() == id)) {
                    return 0L;
                }
                throw e;
            }
        });
    }

    /** Adds a member with {@code peerUrl}; returns its id once it is listed. */
    static long add(Admin admin, Supplier<io.vigil.robustness.cluster.Member> contact, String peerUrl) {
        return retry("add " + peerUrl, () -> {
            String endpoint = contact.get().endpoint();
            try {
                return admin.memberAdd(endpoint, java.util.List.of(peerUrl), CALL_MS).getMember().getID();
            } catch (StatusRuntimeException e) {
                MemberListResponse list = listOrNull(admin, contact);
                if (list != null) {
                    for (Member m : list.getMembersList()) {
                        if (m.getPeerURLsList().contains(peerUrl)) {
                            return m.getID();
                        }
                    }
                }
                throw e;
            }
        });
    }

    private static MemberListResponse listOrNull(Admin admin, Supplier<io.vigil.robustness.cluster.Member> contact) {
        try {
            return admin.memberList(contact.get().endpoint(), CALL_MS);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static long retry(String what, Supplier<Long> change) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            try {
                return change.get();
            } catch (RuntimeException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("member " + what + " did not take effect within " + PATIENCE, e);
                }
                ProcessCluster.LOG.log(Level.DEBUG, "member {0} not done yet: {1}", what, e.getMessage());
                ProcessCluster.sleep(500);
            }
        }
    }
}
