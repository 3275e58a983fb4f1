package io.vigil.robustness.check;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the checkers found in one history: the violations, and what was judged.
 *
 * @param notes things worth knowing that are no violation (a watch the server compacted)
 */
public record CheckReport(List<Violation> violations, int operations, int watchers, long lastRevision, int events,
        List<String> notes) {

    public CheckReport {
        violations = List.copyOf(violations);
        notes = List.copyOf(notes);
    }

    public boolean ok() {
        return violations.isEmpty();
    }

    public Map<Violation.Kind, Integer> countsByKind() {
        Map<Violation.Kind, Integer> counts = new EnumMap<>(Violation.Kind.class);
        for (Violation v : violations) {
            counts.merge(v.kind(), 1, Integer::sum);
        }
        return counts;
    }

    /** A few lines for a person: what was judged, counts per checker and kind, the first violations. */
    public String summary() {
        StringBuilder s = new StringBuilder();
        s.append("judged ").append(operations).append(" operations, ").append(watchers).append(" watchers, revisions up to ")
                .append(lastRevision).append(" (").append(events).append(" events)\n");
        Map<String, Integer> perChecker = new LinkedHashMap<>(); // in the order the checkers run
        for (String checker : List.of("watch-history", "linearizability", "watch-guarantees")) {
            perChecker.put(checker, 0);
        }
        for (Violation v : violations) {
            perChecker.merge(v.checker(), 1, Integer::sum);
        }
        for (var c : perChecker.entrySet()) {
            s.append(c.getKey()).append(": ").append(c.getValue() == 0 ? "ok" : c.getValue() + " violation(s)");
            for (var k : countsByKind().entrySet()) {
                if (k.getKey().checker().equals(c.getKey())) {
                    s.append(", ").append(k.getKey()).append(' ').append(k.getValue());
                }
            }
            s.append('\n');
        }
        int shown = 0;
        for (Violation v : violations) {
            if (shown++ == 20) {
                s.append("… and ").append(violations.size() - 20).append(" more\n");
                break;
            }
            s.append("  ").append(v).append('\n');
        }
        for (String note : notes) {
            s.append("note: ").append(note).append('\n');
        }
        return s.toString();
    }
}
