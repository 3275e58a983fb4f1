package io.vigil.robustness.check;

/**
 * One broken promise found in a history. {@code revision}, {@code nanos}, {@code operation} (an
 * index into {@code History.operations()}) and {@code watcher} point a report at where it was seen;
 * 0 / -1 when they do not apply.
 */
public record Violation(Kind kind, String message, long revision, long nanos, int operation, int watcher) {

    /** What was broken, grouped by the checker that finds it. */
    public enum Kind {
        // watch-history: the merged watch history itself
        MEMBERS_DISAGREE("watch-history"),
        REVISION_NOT_WATCHED("watch-history"),
        IMPOSSIBLE_REVISION("watch-history"),
        // linearizability: revisions explained, responses right, real time respected
        UNEXPLAINED_REVISION("linearizability"),
        LOST_WRITE("linearizability"),
        DUPLICATE_REVISION("linearizability"),
        WRITE_ORDER("linearizability"),
        WRONG_WRITE("linearizability"),
        WRONG_TXN_BRANCH("linearizability"),
        WRONG_RESPONSE("linearizability"),
        STALE_READ("linearizability"),
        READ_FROM_FUTURE("linearizability"),
        SERIALIZABLE_BACKWARDS("linearizability"),
        SERIALIZABLE_FROM_FUTURE("linearizability"),
        UNSUPPORTED_REQUEST("linearizability"),
        // watch-guarantees: per watcher, as etcd's robustness suite names them
        WATCH_ORDER("watch-guarantees"),
        WATCH_DUPLICATE("watch-guarantees"),
        WATCH_ATOMIC("watch-guarantees"),
        WATCH_BOOKMARK("watch-guarantees"),
        WATCH_GAP("watch-guarantees"),
        WATCH_UNEXPECTED_EVENT("watch-guarantees"),
        WATCH_RESUME("watch-guarantees"),
        WATCH_PREV_KV("watch-guarantees");

        private final String checker;

        Kind(String checker) {
            this.checker = checker;
        }

        public String checker() {
            return checker;
        }
    }

    public String checker() {
        return kind.checker();
    }

    static Violation ofOperation(Kind kind, long revision, Op op, String message) {
        return new Violation(kind, message, revision, op.call(), op.index(), -1);
    }

    static Violation ofWatcher(Kind kind, long revision, long nanos, int watcher, String message) {
        return new Violation(kind, message, revision, nanos, -1, watcher);
    }

    static Violation ofRevision(Kind kind, long revision, String message) {
        return new Violation(kind, message, revision, 0, -1, -1);
    }

    @Override
    public String toString() {
        return kind + ": " + message;
    }
}
