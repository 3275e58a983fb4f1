package io.vigil.robustness.check;

import static io.vigil.robustness.check.Histories.M1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.robustness.check.Histories.Store;
import io.vigil.robustness.history.History;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckersTest {

    @Test
    void theSummaryCountsPerCheckerAndKindAndShowsTheViolations() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        h.get(3, 30, 40, "a", 1);
        h.watcher(1, M1).create(0, 1).all(50, s);
        CheckReport report = Checkers.checkAll(h.build());
        assertEquals(Map.of(Violation.Kind.STALE_READ, 1), report.countsByKind());
        String summary = report.summary();
        assertTrue(summary.startsWith("judged 2 operations, 1 watchers, revisions up to 2 (1 events)\n"), summary);
        assertTrue(summary.contains("linearizability: 1 violation(s), STALE_READ 1\n"), summary);
        assertTrue(summary.contains("watch-history: ok\n") && summary.contains("watch-guarantees: ok\n"), summary);
        assertTrue(summary.contains("STALE_READ: stale read: client 3 range a"), summary);
    }

    @Test
    void aHistoryReadBackFromItsFileIsJudgedTheSame(@TempDir Path dir) {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        h.get(3, 30, 40, "a", 1);
        h.watcher(1, M1).create(0, 1).all(50, s);
        History history = h.build();
        Path file = dir.resolve("history.jsonl");
        history.write(file);
        assertTrue(Files.exists(file));
        assertEquals(Checkers.checkAll(history), Checkers.checkAll(History.read(file)));
    }

    @Test
    void anEmptyHistoryIsFine() {
        CheckReport report = Checkers.checkAll(new Histories().build());
        assertTrue(report.ok(), report::summary);
    }
}
