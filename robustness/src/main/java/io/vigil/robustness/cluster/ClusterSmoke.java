package io.vigil.robustness.cluster;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.history.FaultRecord;
import io.vigil.robustness.history.Recorder;
import io.vigil.robustness.nemesis.FaultKind;
import io.vigil.robustness.nemesis.Nemesis;
import io.vigil.robustness.nemesis.NemesisConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * By hand, after {@code ./mvnw -B -o -q install -DskipTests} at the root: starts a 3-member
 * cluster (Vigil through bin/vigil, or etcd), injects each nemesis fault once, and after each
 * checks that the cluster heals and that a write through every member is read back through every
 * member; then lets the nemesis pick faults from a seed for a while and stops it.
 *
 * <pre>
 * java -cp 'robustness/target/vigil-robustness-0.1.0-SNAPSHOT.jar:robustness/target/lib/*' \
 *     io.vigil.robustness.cluster.ClusterSmoke vigil|etcd [run-dir] [random-seconds] [seed]
 * </pre>
 * Exits non-zero on the first failure; the members' logs stay in the run directory.
 */
public final class ClusterSmoke {
    private static final System.Logger LOG = System.getLogger("vigil.robustness");

    private static void say(String format, Object... args) {
        LOG.log(System.Logger.Level.INFO, String.format(format, args));
    }
    private ClusterSmoke() {
    }

    public static void main(String[] args) throws Exception {
        String kind = args.length > 0 ? args[0] : "vigil";
        Path dir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("cluster-smoke-" + kind);
        long randomSeconds = args.length > 2 ? Long.parseLong(args[2]) : 20;
        long seed = args.length > 3 ? Long.parseLong(args[3]) : System.nanoTime();
        say("%s", kind + " cluster in " + dir + ", seed " + seed);
        Recorder recorder = new Recorder();
        ClusterConfig config = ClusterConfig.defaults();
        List<String> failures = new java.util.ArrayList<>();
        try (ProcessCluster cluster = kind.equals("etcd") ? new EtcdCluster(dir, config) : new VigilCluster(dir, config)) {
            long t0 = System.nanoTime();
            cluster.start();
            say("started in %d ms: %s", ms(t0), cluster.members());
            int round = 0;
            Nemesis once = new Nemesis(cluster, recorder, new Random(seed), NemesisConfig.defaults());
            for (FaultKind k : FaultKind.values()) {
                long start = System.nanoTime();
                try {
                    FaultRecord r = once.inject(k, Duration.ofSeconds(2));
                    long injected = ms(start);
                    cluster.awaitHealthy(Duration.ofSeconds(60));
                    check(cluster, "r" + round++);
                    say("%-17s %-10s %5d ms, healthy and read-your-writes after %5d ms: %s", k,
                            r.getTargetsList(), injected, ms(start), r.getDetail());
                } catch (RuntimeException e) {
                    failures.add(k + ": " + e);
                    say("%-17s FAILED after %d ms: %s", k, ms(start), e);
                    cluster.heal();
                    cluster.awaitHealthy(Duration.ofSeconds(60));
                }
            }
            // both kinds of isolation once, whatever the coins above picked
            for (boolean lose : new boolean[] {false, true}) {
                long start = System.nanoTime();
                Member leader = cluster.leader().orElseThrow();
                if (lose) {
                    cluster.isolateDropping(leader);
                } else {
                    cluster.isolate(leader);
                }
                Thread.sleep(3000);
                cluster.heal();
                cluster.awaitHealthy(Duration.ofSeconds(60));
                check(cluster, "isolated-" + lose);
                say("leader %s isolated 3 s, bytes %s: healthy and read-your-writes after %d ms",
                        leader.name(), lose ? "lost" : "held", ms(start));
            }
            if (randomSeconds > 0) {
                Nemesis nemesis = new Nemesis(cluster, recorder, new Random(seed), NemesisConfig.defaults());
                nemesis.start();
                Thread.sleep(TimeUnit.SECONDS.toMillis(randomSeconds));
                long stopAt = System.nanoTime();
                nemesis.stop();
                check(cluster, "after-random");
                int before = FaultKind.values().length;
                List<FaultRecord> faults = recorder.history().faults();
                say("random nemesis for %d s: %d faults %s; stopped and healthy after %d ms",
                        randomSeconds, faults.size() - before,
                        faults.subList(before, faults.size()).stream().map(f -> f.getKind() + f.getTargetsList()).toList(),
                        ms(stopAt));
            }
            say("%s", "members at the end: " + cluster.members());
            if (cluster instanceof EtcdCluster etcd) {
                say("%s", "etcd peer connections: " + etcd.peerRouting());
            }
        }
        if (!failures.isEmpty()) {
            say("%s", "FAILED: " + failures);
            System.exit(1);
        }
        say("%s", "OK");
    }

    private static long ms(long since) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }

    /** A write through every member, then every member reads every one of them back (linearizably). */
    private static void check(Cluster cluster, String round) {
        List<Member> members = cluster.members();
        for (Member m : members) {
            withKv(m, kv -> kv.put(PutRequest.newBuilder().setKey(key(round, m)).setValue(ByteString.copyFromUtf8(m.name())).build()));
        }
        for (Member reader : members) {
            for (Member writer : members) {
                RangeResponse r = withKv(reader, kv -> kv.range(RangeRequest.newBuilder().setKey(key(round, writer)).build()));
                if (r.getCount() != 1 || !r.getKvs(0).getValue().toStringUtf8().equals(writer.name())) {
                    throw new IllegalStateException(reader + " does not read " + writer + "'s write of round " + round + ": " + r);
                }
            }
        }
    }

    private static ByteString key(String round, Member m) {
        return ByteString.copyFromUtf8("smoke/" + round + "/" + m.name());
    }

    private static <T> T withKv(Member m, java.util.function.Function<KVGrpc.KVBlockingStub, T> call) {
        ManagedChannel ch = NettyChannelBuilder.forTarget(m.endpoint()).usePlaintext().build();
        try {
            return call.apply(KVGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS));
        } finally {
            ch.shutdownNow();
        }
    }
}
