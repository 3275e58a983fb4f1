package io.vigil.server;

import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.util.List;
import java.util.Set;

/**
 * What lets gRPC tools find their way on the client port without proto files: the standard
 * health service ({@code grpc.health.v1.Health}) and server reflection (both {@code v1} and the
 * {@code v1alpha} that older grpcurl builds ask for).
 *
 * <p>Health, per service, while the member runs: {@code etcdserverpb.Watch} and
 * {@code etcdserverpb.Maintenance} are SERVING (a member serves watches and status from its own
 * log with or without a leader); the services whose calls need the leader (KV, Lease, Cluster,
 * Auth, Lock, Election), and the server as a whole (the empty service name), are SERVING while
 * the member knows a leader and NOT_SERVING while it knows none, as etcd's {@code /health} says
 * "RAFT NO LEADER". Once the member stops, every service is NOT_SERVING (and watchers of the
 * health service are told so) before the calls are ended.
 */
final class GrpcDiscovery {
    /** The services here: a learner serves them too ({@link LearnerCalls}). */
    static final Set<String> SERVICES = Set.of("grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection");
    private static final Set<String> WITHOUT_LEADER = Set.of("etcdserverpb.Watch", "etcdserverpb.Maintenance");

    private final HealthStatusManager health = new HealthStatusManager();
    private List<String> services = List.of();
    /** What the statuses say of the leader; null before {@link #serving} and after {@link #stopping}. */
    private Boolean hadLeader;

    /** The health and reflection services, to register on the client port. */
    @SuppressWarnings("deprecation") // v1alpha reflection: what grpcurl before 1.8.8 asks for
    List<ServerServiceDefinition> services() {
        return List.of(health.getHealthService().bindService(), ProtoReflectionServiceV1.newInstance().bindService(),
                ProtoReflectionService.newInstance().bindService());
    }

    /** The client services whose status the health service reports, from now on, and whether a leader is known now. */
    synchronized void serving(List<ServerServiceDefinition> clientServices, boolean leaderKnown) {
        services = clientServices.stream().map(s -> s.getServiceDescriptor().getName()).toList();
        for (String s : services) {
            if (WITHOUT_LEADER.contains(s)) {
                health.setStatus(s, ServingStatus.SERVING);
            }
        }
        apply(leaderKnown);
    }

    /** Whether the member knows a leader now (called from time to time); the statuses follow it. */
    synchronized void leader(boolean known) {
        if (hadLeader != null && hadLeader != known) {
            apply(known);
        }
    }

    private void apply(boolean leaderKnown) {
        hadLeader = leaderKnown;
        ServingStatus status = leaderKnown ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
        for (String s : services) {
            if (!WITHOUT_LEADER.contains(s)) {
                health.setStatus(s, status);
            }
        }
    }

    /** The member stops: every service NOT_SERVING, for good. */
    synchronized void stopping() {
        hadLeader = null;
        health.enterTerminalState();
    }
}
