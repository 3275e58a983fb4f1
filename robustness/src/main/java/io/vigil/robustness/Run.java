package io.vigil.robustness;

import io.vigil.proto.history.FaultRecord;
import io.vigil.robustness.check.CheckReport;
import io.vigil.robustness.check.Checkers;
import io.vigil.robustness.check.Describe;
import io.vigil.robustness.check.Violation;
import io.vigil.robustness.cluster.ClusterConfig;
import io.vigil.robustness.cluster.EtcdCluster;
import io.vigil.robustness.cluster.ProcessCluster;
import io.vigil.robustness.cluster.VigilCluster;
import io.vigil.robustness.history.History;
import io.vigil.robustness.history.Recorder;
import io.vigil.robustness.nemesis.Nemesis;
import io.vigil.robustness.nemesis.NemesisConfig;
import io.vigil.robustness.report.Timeline;
import io.vigil.robustness.traffic.Traffic;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * One robustness run, from one command: a 3-member cluster of real processes, traffic over all
 * members, faults from the seed, then the history judged. Writes {@code history.jsonl},
 * {@code report.md} and, when something was found, {@code timeline.html} into a folder of its
 * own under the results folder, and exits 0 when the run kept every promise (1 when not; with
 * {@code --expect-violation} the other way round; 2 when the run could not be made).
 *
 * <p>Order, so that the history is complete: traffic and watchers start before the first fault;
 * the nemesis stops (every fault undone, the cluster healthy) before the clients stop; then the
 * final revision is read linearizably and every watcher is waited for until it has reached it.
 */
public final class Run {
    /** The harness's one logger ("vigil.robustness"); robustness/run prints it one line a record. */
    private static final System.Logger LOG = System.getLogger("vigil.robustness");
    private static final Duration HEAL_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(60);

    private Run() {}

    public static void main(String[] args) {
        RunConfig config;
        try {
            config = RunConfig.parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().equals("help")) {
                LOG.log(System.Logger.Level.ERROR, e.getMessage());
            }
            LOG.log(System.Logger.Level.INFO, RunConfig.USAGE);
            System.exit(2);
            return;
        }
        try {
            System.exit(config.check() != null ? judgeAgain(config) : execute(config).exitCode());
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "the run could not be made", e);
            System.exit(2);
        }
    }

    private static int judgeAgain(RunConfig config) throws IOException {
        History history = History.read(config.check());
        CheckReport report = Checkers.checkAll(history);
        LOG.log(System.Logger.Level.INFO, report.summary());
        Path dir = config.check().toAbsolutePath().getParent();
        writeTimeline(dir, history, report, "re-judged " + config.check());
        return exitCode(config, report, true);
    }

    /** What a run found, and where it wrote it. */
    record Outcome(Path dir, CheckReport report, Traffic.CatchUp catchUp, int exitCode) {}

    /** One whole run (no exit): what {@code main} does, and what the short-run tests call. */
    static Outcome execute(RunConfig config) throws Exception {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
        Path dir = config.results().toAbsolutePath().resolve(stamp + "-" + config.target() + "-seed" + config.seed());
        Files.createDirectories(dir);
        LOG.log(System.Logger.Level.INFO, "seed " + config.seed() + ", " + config.target() + ", " + config.duration().toSeconds()
                + " s of " + config.traffic().name().toLowerCase(Locale.ROOT) + " traffic, faults " + config.faults()
                + (config.testFault().isEmpty() ? "" : ", test fault " + config.testFault()));
        LOG.log(System.Logger.Level.INFO, "repeat with: " + config.command());
        LOG.log(System.Logger.Level.INFO, "writing " + dir);
        Recorder recorder = new Recorder();
        ClusterConfig clusterConfig = ClusterConfig.defaults().withServerFlags(config.testFault().isEmpty()
                ? List.of() : List.of("--experimental-test-fault=" + config.testFault()));
        Traffic.CatchUp catchUp;
        try (ProcessCluster cluster = config.target().equals("etcd")
                ? new EtcdCluster(dir.resolve("cluster"), clusterConfig)
                : new VigilCluster(dir.resolve("cluster"), clusterConfig)) {
            cluster.start();
            LOG.log(System.Logger.Level.INFO, "cluster up: " + cluster.members());
            Traffic traffic = Traffic.start(cluster::endpoints, recorder, config.seed(), config.traffic(), config.clients());
            try {
                Nemesis nemesis = config.faults().isEmpty() ? null
                        : new Nemesis(cluster, recorder, new Random(config.seed() * 31 + 7),
                        NemesisConfig.defaults().withMix(config.faults()));
                if (nemesis != null) {
                    nemesis.start();
                }
                Thread.sleep(config.duration().toMillis());
                if (nemesis != null) {
                    nemesis.stop();
                }
                cluster.awaitHealthy(HEAL_TIMEOUT);
                traffic.stop();
                long finalRevision = cluster.linearizableRevision(HEAL_TIMEOUT);
                catchUp = traffic.awaitWatchersCaughtUp(finalRevision, CATCH_UP_TIMEOUT);
            } finally {
                traffic.close();
            }
        }
        History history = recorder.history();
        history.write(dir.resolve("history.jsonl"));
        CheckReport report = Checkers.checkAll(history);
        String title = config.target() + " seed " + config.seed();
        Files.writeString(dir.resolve("report.md"), report(config, history, report, catchUp));
        writeTimeline(dir, history, report, title);
        LOG.log(System.Logger.Level.INFO, report.summary());
        if (!catchUp.caughtUp()) {
            LOG.log(System.Logger.Level.WARNING, "watchers that did not reach revision " + catchUp.finalRevision() + ": " + catchUp.problems());
        }
        LOG.log(System.Logger.Level.INFO, (report.ok() ? "no violation" : report.violations().size() + " violation(s)")
                + "; report in " + dir.resolve("report.md"));
        return new Outcome(dir, report, catchUp, exitCode(config, report, catchUp.caughtUp()));
    }

    private static int exitCode(RunConfig config, CheckReport report, boolean caughtUp) {
        if (config.expectViolation()) {
            return report.ok() ? 1 : 0;
        }
        return report.ok() && caughtUp ? 0 : 1;
    }

    private static String report(RunConfig config, History history, CheckReport report, Traffic.CatchUp catchUp) {
        StringBuilder s = new StringBuilder();
        s.append("# Robustness run: ").append(config.target()).append(", seed ").append(config.seed()).append("\n\n");
        s.append("Repeat: `").append(config.command()).append("`\n\n");
        s.append("Result: **").append(report.ok() ? "no violation" : report.violations().size() + " violation(s)").append("**");
        s.append(catchUp.caughtUp() ? "" : "; watchers that did not reach the final revision: " + catchUp.problems());
        s.append("\n\n## Checks\n```\n").append(report.summary()).append("```\n\n");
        long ok = history.operations().stream().filter(o -> o.hasResponse()).count();
        long definite = history.operations().stream().filter(o -> o.hasError() && o.getDefinitelyFailed()).count();
        s.append("## Traffic\n").append(history.operations().size()).append(" operations: ").append(ok)
                .append(" answered, ").append(definite).append(" failed for certain, ")
                .append(history.operations().size() - ok - definite).append(" with unknown outcome; ")
                .append(history.watches().size()).append(" watch records; final revision ").append(catchUp.finalRevision())
                .append(".\n\n## Faults\nTimes are seconds since the harness started, as in every record of the history.\n\n| start | end | kind | targets | detail |\n|---|---|---|---|---|\n");
        for (FaultRecord f : history.faults()) {
            s.append("| ").append(Describe.seconds(f.getStartNanos())).append(" | ")
                    .append(f.getEndNanos() == 0 ? "-" : Describe.seconds(f.getEndNanos())).append(" | ")
                    .append(f.getKind()).append(" | ").append(String.join(", ", f.getTargetsList())).append(" | ")
                    .append(f.getDetail().replace("|", "/")).append(" |\n");
        }
        if (!report.ok()) {
            s.append("\n## First violations\n");
            report.violations().stream().limit(20).forEach(v -> {
                s.append("- ").append(v);
                if (v.operation() >= 0) {
                    s.append("\n  - operation: ").append(Describe.operation(history.operations().get(v.operation())));
                }
                s.append('\n');
            });
            s.append("\nSee timeline.html for the history around them.\n");
        }
        return s.toString();
    }

    /** The timeline around the first violations (a few seconds either side); nothing when there are none. */
    private static void writeTimeline(Path dir, History history, CheckReport report, String title) throws IOException {
        if (report.ok()) {
            return;
        }
        List<Timeline.Mark> marks = new ArrayList<>();
        for (Violation v : report.violations()) {
            long at = v.nanos() > 0 ? v.nanos()
                    : v.operation() >= 0 ? history.operations().get(v.operation()).getCallNanos() : 0;
            if (at > 0) {
                marks.add(new Timeline.Mark(at, v.toString()));
            }
            if (marks.size() == 10) {
                break;
            }
        }
        if (marks.isEmpty()) {
            return;
        }
        long first = marks.stream().mapToLong(Timeline.Mark::nanos).min().orElseThrow();
        long last = marks.stream().mapToLong(Timeline.Mark::nanos).max().orElseThrow();
        long from = Math.max(0, first - 3_000_000_000L);
        long to = Math.min(last, first + 20_000_000_000L) + 3_000_000_000L;
        Files.writeString(dir.resolve("timeline.html"), Timeline.html(history, from, to, marks, title));
    }
}
