package io.vigil.server;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.vigil.proto.etcdserverpb.AlarmType;
import io.vigil.proto.etcdserverpb.HashKVRequest;
import io.vigil.proto.etcdserverpb.HashKVResponse;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.revlog.KvHash;
import io.vigil.revlog.RevLog;
import io.vigil.revlog.RevLogException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * etcd's corruption checks, by HashKV ({@link RevLog#hashKv}): members that applied the same log
 * and stand at the same compact revision have the same hash at every revision they both hold, so a
 * difference means one store diverged.
 *
 * <ul>
 *   <li>Periodic ({@code --experimental-corrupt-check-time}, off at 0): the leader hashes its store
 *       at its current revision R, asks every other member for HashKV(R) at its client URLs, and
 *       raises the CORRUPT alarm against a member that answers another hash at the leader's compact
 *       revision (etcd's checkHashKV); against itself when its own hash at R changed between
 *       before and after asking. A member behind R (future revision), compacted past it, not
 *       reachable or without published client URLs is not compared this round. One alarm a round.
 *   <li>At start ({@code --experimental-initial-corrupt-check}), before the member joins the
 *       cluster's traffic: it asks the others for HashKV at its own revision and refuses to start
 *       when one with the same compact revision answers another hash (etcd's checkInitialHashKV).
 * </ul>
 *
 * Not kept from etcd 3.4: its leader also alarms a member whose header revision or compact
 * revision is above the leader's; Vigil's members report their revision when asked, and a
 * follower may have applied a little further than the leader had when it hashed.
 */
final class CorruptionCheck implements AutoCloseable {
    private final RevLog revLog;
    private final TestFaults faults;
    private final Membership membership;
    private final long selfId;
    private final BooleanSupplier isLeader;
    private final AlarmRaiser alarms;
    private final long timeoutMs;
    /** Channels to the other members' client URLs, where they serve HashKV. */
    private final PeerChannels clients;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("vigil-corrupt-check"));

    CorruptionCheck(RevLog revLog, TestFaults faults, Membership membership, long selfId, BooleanSupplier isLeader,
                    AlarmRaiser alarms, long timeoutMs,
                    Function<URI, ChannelCredentials> clientCredentials) {
        this.revLog = revLog;
        this.faults = faults;
        this.membership = membership;
        this.selfId = selfId;
        this.isLeader = isLeader;
        this.alarms = alarms;
        this.timeoutMs = timeoutMs;
        this.clients = new PeerChannels(this::clientUrl, clientCredentials);
    }

    /** Runs the leader's check every {@code interval} from now on; null or zero: never. */
    void start(Duration interval) {
        if (interval == null || interval.isZero()) {
            return;
        }
        long ms = Math.max(1, interval.toMillis());
        timer.scheduleWithFixedDelay(() -> {
            try {
                if (isLeader.getAsBoolean()) {
                    checkAsLeader();
                }
            } catch (RuntimeException e) {
                VigilServer.LOG.log(System.Logger.Level.WARNING, "corruption check failed: " + e);
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** One round of the leader's check (etcd's checkHashKV). */
    void checkAsLeader() {
        KvHash mine = localHash(0);
        List<PeerHash> peers = peerHashes(mine.hashRevision());
        boolean alarmed = false;
        KvHash again = localHashOrNull(mine.hashRevision());
        if (again != null && again.compactRevision() == mine.compactRevision() && again.hash() != mine.hash()) {
            VigilServer.LOG.log(System.Logger.Level.ERROR, "found hash mismatch on this member at revision "
                    + mine.hashRevision() + ": " + Integer.toUnsignedString(mine.hash()) + " then "
                    + Integer.toUnsignedString(again.hash()));
            alarms.raise(selfId, AlarmType.CORRUPT);
            alarmed = true;
        }
        for (PeerHash p : peers) {
            if (alarmed || p.response() == null) {
                continue;
            }
            HashKVResponse r = p.response();
            if (r.getCompactRevision() == mine.compactRevision() && r.getHash() != mine.hash()) {
                VigilServer.LOG.log(System.Logger.Level.ERROR, "same compact revision then hashes must match: member "
                        + Long.toHexString(p.memberId()) + " has hash " + Integer.toUnsignedString(r.getHash())
                        + " at revision " + mine.hashRevision() + " (compact revision " + mine.compactRevision()
                        + "), the leader " + Integer.toUnsignedString(mine.hash()));
                alarms.raise(p.memberId(), AlarmType.CORRUPT);
                alarmed = true;
            }
        }
    }

    /**
     * The check at start (etcd's checkInitialHashKV): compares this member's hash at its revision
     * with every reachable member's. A member with no applied entries (new) is not checked.
     *
     * @throws IllegalStateException when a member at the same compact revision has another hash
     */
    void checkAtStart() {
        if (revLog.committedIndex() == 0) {
            return;
        }
        KvHash mine = localHash(0);
        VigilServer.LOG.log(System.Logger.Level.INFO, "starting initial corruption check at revision "
                + mine.hashRevision());
        int mismatches = 0;
        for (PeerHash p : peerHashes(mine.hashRevision())) {
            if (p.response() == null) {
                continue;
            }
            HashKVResponse r = p.response();
            if (r.getCompactRevision() == mine.compactRevision() && r.getHash() != mine.hash()) {
                VigilServer.LOG.log(System.Logger.Level.ERROR, "found different hash values from remote peer "
                        + Long.toHexString(p.memberId()) + ": " + Integer.toUnsignedString(r.getHash()) + " at revision "
                        + mine.hashRevision() + ", this member " + Integer.toUnsignedString(mine.hash()));
                mismatches++;
            }
        }
        if (mismatches > 0) {
            throw new IllegalStateException(Long.toHexString(selfId) + " found data inconsistency with peers");
        }
        VigilServer.LOG.log(System.Logger.Level.INFO, "initial corruption checking passed; no corruption");
    }

    /** This member's HashKV as it reports it to others (a test fault may change it). */
    private KvHash localHash(long revision) {
        KvHash h = revLog.hashKv(revision);
        return new KvHash(faults.hash(h.hash()), h.revision(), h.compactRevision(), h.hashRevision());
    }

    private KvHash localHashOrNull(long revision) {
        try {
            return localHash(revision);
        } catch (RevLogException compactedMeanwhile) {
            return null;
        }
    }

    /** A member's answer to HashKV, or null when it gave none (logged). */
    private record PeerHash(long memberId, HashKVResponse response) {
    }

    /** HashKV(revision) of every other member that published client URLs, asked all at once. */
    private List<PeerHash> peerHashes(long revision) {
        Map<Long, CompletableFuture<HashKVResponse>> asked = new java.util.TreeMap<>(Long::compareUnsigned);
        for (Long id : membership.members().keySet()) {
            ManagedChannel channel = id == selfId ? null : clients.to(id);
            if (channel != null) {
                asked.put(id, PeerChannels.completable(MaintenanceGrpc.newFutureStub(channel)
                        .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                        .hashKV(HashKVRequest.newBuilder().setRevision(revision).build())));
            }
        }
        List<PeerHash> out = new ArrayList<>();
        asked.forEach((id, answer) -> {
            try {
                out.add(new PeerHash(id, answer.join()));
            } catch (java.util.concurrent.CompletionException e) {
                Status s = Status.fromThrowable(e.getCause());
                // a member still behind the revision is common and harmless: compared next round
                System.Logger.Level level = isFutureRevision(s) ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING;
                VigilServer.LOG.log(level, "cannot fetch hash from member " + Long.toHexString(id) + " at revision "
                        + revision + ": " + s.getCode() + " " + s.getDescription());
                out.add(new PeerHash(id, null));
            }
        });
        return out;
    }

    private static boolean isFutureRevision(Status s) {
        return s.getDescription() != null
                && s.getDescription().endsWith(RevLogException.Code.FUTURE_REVISION.etcdMessage());
    }

    /** A member's first published client URL, or null (not a member, or not published yet). */
    private URI clientUrl(long id) {
        Membership.Member m = membership.member(id);
        return m == null || m.clientUrls() == null || m.clientUrls().isEmpty() ? null : URI.create(m.clientUrls().get(0));
    }

    /** Stops the periodic check (waiting for a round under way) and closes the channels. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        clients.close();
    }
}
