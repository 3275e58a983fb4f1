package io.vigil.server;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.vigil.proto.internal.MembershipHistory;
import io.vigil.proto.internal.MembershipPeerGrpc;
import io.vigil.proto.internal.MembershipRequest;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Who this member is and which membership it starts from, decided once at start from its data
 * directory and the cluster flags, as etcd decides it:
 * <ul>
 *   <li>A data directory with an identity ({@link MemberIdentity}): the member restarts as it, and
 *       its membership is the one kept beside the store; the cluster flags only have to name the
 *       same member (for a "new" cluster, the same member of the same cluster).</li>
 *   <li>An empty one with {@code --initial-cluster-state new}: the member is one of the initial
 *       members, ids derived as etcd derives them ({@link Members}).</li>
 *   <li>An empty one with {@code existing}: the member joins a running cluster. It asks the peers
 *       in {@code --initial-cluster} for the cluster's membership (etcd's
 *       GetClusterFromRemotePeers), finds itself among the members by its peer URLs (it was added
 *       with {@code member add}), and starts from the bootstrap snapshot with the cluster's
 *       bootstrap voters: the leader sends it the log from index 2, and applying it replays every
 *       membership change, its own addition included.</li>
 * </ul>
 *
 * @param peers the peer URLs to dial before the log has told this member of them: a joining
 *              member learns the current members from its peer, not yet from its own log
 * @param joined whether this start joins a running cluster (first start with {@code existing})
 */
record MemberStart(long memberId, long clusterId, Membership membership, Map<Long, Membership.Member> peers,
                   boolean joined) {
    /** How long a joining member keeps asking its peers for the membership. */
    static final long JOIN_TIMEOUT_MS = 30_000;

    /**
     * @param fresh whether the store and the WAL are empty
     * @param toPeer how to dial a peer URL, when joining
     * @throws IllegalStateException naming what is wrong, when the member must not start
     */
    static MemberStart decide(ServerConfig config, boolean fresh, Function<URI, ChannelCredentials> toPeer) {
        Path dataDir = config.dataDir();
        Members initial = config.members();
        Members.Member named = initial.named(config.name());
        MemberIdentity found = MemberIdentity.read(dataDir);
        if (found != null) {
            boolean joined = config.initialClusterState().equals("existing");
            if (!found.name().equals(config.name())
                    || !joined && (found.clusterId() != initial.clusterId() || found.memberId() != named.id())) {
                throw found.refusal(dataDir, config.name(), named.id(), initial.clusterId());
            }
            Membership membership = Membership.load(dataDir);
            if (membership == null) {
                // a data directory from before membership changes: its cluster is the initial one
                membership = Membership.create(dataDir, found.clusterId(), initialVoters(initial));
            }
            return new MemberStart(found.memberId(), found.clusterId(), membership, membership.members(), false);
        }
        if (!fresh) {
            throw new IllegalStateException("the data directory " + dataDir + " holds data but no " + MemberIdentity.FILE
                    + " file saying whose it is; refusing to use it (start from an empty --data-dir)");
        }
        MemberStart start;
        if (config.initialClusterState().equals("new")) {
            Membership membership = Membership.create(dataDir, initial.clusterId(), initialVoters(initial));
            start = new MemberStart(named.id(), initial.clusterId(), membership, membership.members(), false);
        } else {
            start = join(config, initial, named, toPeer);
        }
        new MemberIdentity(start.clusterId(), start.memberId(), config.name()).write(dataDir);
        return start;
    }

    private static List<Membership.Member> initialVoters(Members initial) {
        List<Membership.Member> voters = new ArrayList<>();
        initial.byId().values().forEach(m -> voters.add(new Membership.Member(m.id(), m.peerUrls(), false, m.name(), List.of())));
        return voters;
    }

    private static MemberStart join(ServerConfig config, Members initial, Members.Member named,
            Function<URI, ChannelCredentials> toPeer) {
        MembershipHistory remote = fetchHistory(initial, named, config.requestTimeoutMs(), toPeer);
        Map<Long, Membership.Member> current = Membership.membersOf(remote, new HashSet<>());
        Membership.Member self = null;
        for (Membership.Member m : current.values()) {
            if (new HashSet<>(m.peerUrls()).equals(new HashSet<>(named.peerUrls()))) {
                self = m;
            }
        }
        if (self == null) {
            throw new IllegalStateException("--initial-cluster-state existing: no member of cluster "
                    + Long.toHexString(remote.getClusterId()) + " has the peer URLs " + named.peerUrls()
                    + " of --initial-advertise-peer-urls; add this member first (etcdctl member add "
                    + config.name() + " --peer-urls=...)");
        }
        List<Membership.Member> bootstrap = new ArrayList<>();
        remote.getBootstrapList().forEach(r -> bootstrap.add(Membership.Member.of(r)));
        Membership membership = Membership.create(config.dataDir(), remote.getClusterId(), bootstrap);
        VigilServer.LOG.log(System.Logger.Level.INFO, "joining cluster " + Long.toHexString(remote.getClusterId())
                + " as member " + Long.toHexString(self.id()) + (self.learner() ? " (learner)" : ""));
        return new MemberStart(self.id(), remote.getClusterId(), membership, current, true);
    }

    /** Asks each other peer of {@code --initial-cluster} in turn until one answers, for up to {@link #JOIN_TIMEOUT_MS}. */
    private static MembershipHistory fetchHistory(Members initial, Members.Member named, long callTimeoutMs,
            Function<URI, ChannelCredentials> toPeer) {
        List<URI> others = new ArrayList<>();
        initial.byId().values().forEach(m -> {
            if (m != named) {
                others.addAll(m.peerUrls());
            }
        });
        if (others.isEmpty()) {
            throw new IllegalStateException("--initial-cluster-state existing: --initial-cluster names no other member to join");
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_TIMEOUT_MS);
        List<String> failures = new ArrayList<>();
        while (true) {
            for (URI u : others) {
                ManagedChannel channel = Grpc.newChannelBuilder(u.getHost() + ":" + u.getPort(),
                        toPeer.apply(u)).build();
                try {
                    return MembershipPeerGrpc.newBlockingStub(channel)
                            .withDeadlineAfter(Math.min(callTimeoutMs, 2000), TimeUnit.MILLISECONDS)
                            .history(MembershipRequest.getDefaultInstance());
                } catch (StatusRuntimeException e) {
                    failures.add(u + ": " + e.getStatus());
                } finally {
                    channel.shutdownNow();
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("--initial-cluster-state existing: no peer in --initial-cluster answered"
                        + " with the cluster's members: " + failures.subList(Math.max(0, failures.size() - others.size()),
                        failures.size()));
            }
            try {
                Thread.sleep(200); // between rounds of asking peers that are not reachable yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while asking peers for the cluster's members");
            }
        }
    }
}
