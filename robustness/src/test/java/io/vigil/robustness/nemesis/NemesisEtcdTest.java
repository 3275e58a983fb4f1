package io.vigil.robustness.nemesis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.history.FaultRecord;
import io.vigil.robustness.cluster.ClusterConfig;
import io.vigil.robustness.cluster.EtcdCluster;
import io.vigil.robustness.cluster.Member;
import io.vigil.robustness.history.Recorder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nemesis against a real etcd 3.4 cluster: it records every fault it injects, one at a time,
 * and leaves the cluster healthy when stopped, even in the middle of a fault.
 */
class NemesisEtcdTest {
    @Test
    void recordsEachFaultAndLeavesTheClusterHealthyWhenStoppedMidFault(@TempDir Path dir) throws InterruptedException {
        Assumptions.assumeTrue(EtcdCluster.installed(), "etcd not installed: apt-get install -y etcd-server etcd-client");
        Recorder recorder = new Recorder();
        NemesisConfig config = NemesisConfig.defaults()
                .withMix(EnumSet.of(FaultKind.KILL_FOLLOWER, FaultKind.PAUSE_LEADER, FaultKind.ISOLATE_FOLLOWER))
                .withHold(Duration.ofMillis(500), Duration.ofSeconds(1))
                .withGap(Duration.ofMillis(200), Duration.ofMillis(500));
        try (EtcdCluster cluster = new EtcdCluster(dir, ClusterConfig.defaults())) {
            cluster.start();
            Nemesis nemesis = new Nemesis(cluster, recorder, new Random(1), config.withHold(Duration.ofSeconds(30), Duration.ofSeconds(30)));
            nemesis.start();
            Thread.sleep(2000); // inside the first fault's 30 s hold
            nemesis.stop();
            assertEquals(1, recorder.history().faults().size(), "stopped during the first fault");

            Nemesis busy = new Nemesis(cluster, recorder, new Random(2), config);
            busy.start();
            Thread.sleep(8000);
            busy.stop();

            List<FaultRecord> faults = recorder.history().faults();
            assertTrue(faults.size() >= 3, "several faults in 8 s: " + faults);
            for (int i = 0; i < faults.size(); i++) {
                FaultRecord f = faults.get(i);
                assertTrue(f.getStartNanos() > 0 && f.getEndNanos() > f.getStartNanos(), f.toString());
                assertFalse(f.getTargetsList().isEmpty(), f.toString());
                assertTrue(List.of("kill", "pause", "partition").contains(f.getKind()), f.toString());
                if (i > 0) {
                    assertTrue(f.getStartNanos() > faults.get(i - 1).getEndNanos(), "one fault at a time");
                }
            }
            for (Member m : cluster.members()) {
                assertTrue(m.isRunning() && !m.isPaused(), m + " runs");
            }
            cluster.awaitHealthy(Duration.ofSeconds(1));
        }
    }
}
