package io.vigil.robustness.history;

import io.vigil.proto.history.FaultRecord;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.WatchRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Collects a run's history from many threads. Times are nanoseconds since the recorder was made
 * (one monotonic clock for every client, watcher and fault of the run), so {@link #now()} is what
 * every record's times are taken with.
 */
public final class Recorder {
    private final long startNanos = System.nanoTime();
    private final ConcurrentLinkedQueue<Operation> operations = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<WatchRecord> watches = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<FaultRecord> faults = new ConcurrentLinkedQueue<>();

    /** Nanoseconds since the run started; strictly positive, so 0 can mean "never" in records. */
    public long now() {
        return System.nanoTime() - startNanos + 1;
    }

    public void operation(Operation operation) {
        operations.add(operation);
    }

    public void watch(WatchRecord record) {
        watches.add(record);
    }

    public void fault(FaultRecord record) {
        faults.add(record);
    }

    /** What was recorded so far; later records are not in it. */
    public History history() {
        return new History(List.copyOf(new ArrayList<>(operations)), List.copyOf(new ArrayList<>(watches)),
                List.copyOf(new ArrayList<>(faults)));
    }
}
