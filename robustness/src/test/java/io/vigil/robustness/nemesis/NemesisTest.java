package io.vigil.robustness.nemesis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.history.FaultRecord;
import io.vigil.robustness.history.Recorder;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The nemesis's choices and its contract, against a cluster that only records calls. */
class NemesisTest {
    private static final NemesisConfig QUICK = NemesisConfig.defaults()
            .withHold(Duration.ofMillis(1), Duration.ofMillis(5))
            .withGap(Duration.ofMillis(1), Duration.ofMillis(5));

    private static List<String> run(long seed) throws InterruptedException {
        Recorder recorder = new Recorder();
        Nemesis nemesis = new Nemesis(new FakeCluster(), recorder, new Random(seed), QUICK);
        nemesis.start();
        Thread.sleep(1000);
        nemesis.stop();
        return recorder.history().faults().stream()
                .map(f -> f.getKind() + " " + f.getTargetsList() + " " + f.getDetail()).toList();
    }

    @Test
    void aSeedGivesTheSameFaultsInTheSameOrder() throws InterruptedException {
        List<String> a = run(42);
        List<String> b = run(42);
        int common = Math.min(a.size(), b.size());
        assertTrue(common >= 5, "faults in a second: " + a + " and " + b);
        assertEquals(a.subList(0, common), b.subList(0, common));
        List<String> c = run(43);
        assertTrue(!a.subList(0, Math.min(common, c.size())).equals(c.subList(0, Math.min(common, c.size()))),
                "another seed, other faults");
    }

    @Test
    void stopUndoesTheFaultInProgressAndRecordsItsEnd() throws InterruptedException {
        FakeCluster cluster = new FakeCluster();
        Recorder recorder = new Recorder();
        Nemesis nemesis = new Nemesis(cluster, recorder, new Random(1),
                QUICK.withMix(EnumSet.of(FaultKind.PAUSE_FOLLOWER)).withHold(Duration.ofMinutes(1), Duration.ofMinutes(1)));
        nemesis.start();
        Thread.sleep(200);
        long stopAt = recorder.now();
        nemesis.stop();
        List<FaultRecord> faults = recorder.history().faults();
        assertEquals(1, faults.size());
        FaultRecord f = faults.get(0);
        assertEquals("pause", f.getKind());
        assertTrue(f.getEndNanos() >= stopAt, "it ended when stopped, not after its hold");
        String target = f.getTargets(0);
        assertEquals(List.of("pause " + target, "resume " + target), cluster.calls.stream()
                .filter(c -> c.startsWith("pause") || c.startsWith("resume")).toList());
        assertTrue(!target.equals("m1"), "a follower: m1 leads");
    }

    @Test
    void everyKindOfTheMixIsPickedAndRecordedUnderItsName() throws InterruptedException {
        Recorder recorder = new Recorder();
        Nemesis nemesis = new Nemesis(new FakeCluster(), recorder, new Random(7), QUICK);
        nemesis.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<String> kinds;
        do {
            Thread.sleep(50);
            kinds = recorder.history().faults().stream().map(FaultRecord::getKind).distinct().sorted().toList();
        } while (kinds.size() < 7 && System.nanoTime() < deadline);
        nemesis.stop();
        assertEquals(List.of("defragment", "delay", "kill", "move-leader", "partition", "pause", "remove-add"), kinds);
    }
}
