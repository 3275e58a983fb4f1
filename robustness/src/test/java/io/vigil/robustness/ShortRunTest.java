package io.vigil.robustness;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.robustness.check.Violation;
import io.vigil.robustness.cluster.EtcdCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The short seeded runs of {@code ./mvnw verify}: Vigil keeps every promise under every fault it
 * supports; etcd 3.4 does too under the same harness (so the checkers do not cry wolf); and each
 * of Vigil's test faults ({@code --experimental-test-fault}) is caught as the violation it is
 * (so the checkers do not sleep). Each run writes its report under target/robustness-results;
 * a failure names the folder. Vigil is the one this same build packaged (bin/vigil's jars).
 */
class ShortRunTest {
    private static final Path RESULTS = Path.of("target/robustness-results");

    private static Run.Outcome run(String... flags) throws Exception {
        String[] args = new String[flags.length + 2];
        System.arraycopy(flags, 0, args, 0, flags.length);
        args[flags.length] = "--results";
        args[flags.length + 1] = RESULTS.toString();
        Run.Outcome outcome = Run.execute(RunConfig.parse(args));
        System.out.println(String.join(" ", flags) + " → " + outcome.dir() + "\n" + outcome.report().summary());
        return outcome;
    }

    private static Set<Violation.Kind> kinds(Run.Outcome outcome) {
        return outcome.report().violations().stream().map(Violation::kind).collect(Collectors.toSet());
    }

    private static String why(Run.Outcome outcome) throws Exception {
        return outcome.report().summary() + "\nsee " + outcome.dir() + "/report.md"
                + (Files.exists(outcome.dir().resolve("timeline.html")) ? " and timeline.html" : "");
    }

    @Test
    void vigilKeepsItsPromisesUnderEveryFault() throws Exception {
        Run.Outcome outcome = run("--target", "vigil", "--seed", "1501", "--duration", "60s");
        assertTrue(outcome.report().ok(), why(outcome));
        assertTrue(outcome.catchUp().caughtUp(), "watchers behind: " + outcome.catchUp().problems());
        assertTrue(outcome.report().operations() > 500, "too little traffic to judge: " + outcome.report().operations());
    }

    @Test
    void etcdKeepsItsPromisesUnderTheSameHarness() throws Exception {
        boolean installed = EtcdCluster.installed();
        if (Boolean.getBoolean("vigil.requireEtcd") && !installed) {
            throw new IllegalStateException("etcd must be installed (apt-get install etcd-server etcd-client)");
        }
        Assumptions.assumeTrue(installed, "etcd not installed: apt-get install etcd-server etcd-client");
        Run.Outcome outcome = run("--target", "etcd", "--seed", "1502", "--duration", "40s");
        // etcd 3.4.23 (Debian's) answers RequestProgress for a watcher still catching up with the
        // store's current revision, ahead of events it has yet to send: etcd issue 15220, fixed in
        // 3.4.24. A long run showed it as WATCH_BOOKMARK; every other promise must hold.
        Set<Violation.Kind> kinds = kinds(outcome);
        kinds.remove(Violation.Kind.WATCH_BOOKMARK);
        assertTrue(kinds.isEmpty(), why(outcome));
        // etcd 3.4.23 also ends the watches of a member that installs a snapshot as compacted
        // when a compaction passed the revision they were synced at, though they had every event
        // after it (etcd issue 15271: synced watchers keep that revision; CI saw it after a paused
        // follower): needlessly compacted watchers are excused here, never on Vigil
        assertTrue(outcome.catchUp().lagging().isEmpty(), "watchers behind: " + outcome.catchUp().lagging());
    }

    @Test
    void aFollowerReadingWithoutReadIndexIsCaughtAsAStaleRead() throws Exception {
        Run.Outcome outcome = run("--target", "vigil", "--seed", "1503", "--duration", "25s",
                "--faults", "delay,isolate-follower", "--test-fault", "stale-linearizable-read");
        assertTrue(kinds(outcome).contains(Violation.Kind.STALE_READ), why(outcome));
    }

    @Test
    void aWatchThatSkipsARevisionIsCaught() throws Exception {
        Run.Outcome outcome = run("--target", "vigil", "--seed", "1504", "--duration", "15s",
                "--faults", "none", "--test-fault", "watch-skip-revision");
        assertTrue(kinds(outcome).contains(Violation.Kind.REVISION_NOT_WATCHED), why(outcome));
    }

    @Test
    void anAcknowledgementBeforeTheLogHasItIsCaughtAsALostWrite() throws Exception {
        Run.Outcome outcome = run("--target", "vigil", "--seed", "1505", "--duration", "30s",
                "--faults", "kill-follower,kill-leader,isolate-follower", "--test-fault", "ack-before-sync");
        assertTrue(kinds(outcome).contains(Violation.Kind.LOST_WRITE), why(outcome));
    }
}
