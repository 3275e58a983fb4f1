package io.vigil.server;

import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.ApplyResult;
import io.vigil.revlog.LogEntry;
import io.vigil.revlog.RevLog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * A log a test drives by hand: proposals are held, in order, until the test applies them to a
 * store ({@link #applyTo}) or fails them ({@link #fail}).
 */
final class HeldProposals implements Proposer {
    private record Pending(InternalRequest request, CompletableFuture<ApplyResult> done) {
    }

    private final List<Pending> held = new ArrayList<>();

    @Override
    public CompletableFuture<ApplyResult> propose(InternalRequest request) {
        CompletableFuture<ApplyResult> done = new CompletableFuture<>();
        held.add(new Pending(request, done));
        return done;
    }

    /** The held requests, in proposal order. */
    List<InternalRequest> requests() {
        return held.stream().map(Pending::request).toList();
    }

    /** Applies every held request to {@code store} at the indexes {@code nextIndex} gives, and answers its proposer. */
    List<ApplyResult> applyTo(RevLog store, LongSupplier nextIndex) {
        List<LogEntry> entries = new ArrayList<>();
        for (Pending p : held) {
            entries.add(new LogEntry(nextIndex.getAsLong(), p.request()));
        }
        List<ApplyResult> results = store.apply(entries);
        for (int i = 0; i < results.size(); i++) {
            held.get(i).done().complete(results.get(i));
        }
        held.clear();
        return results;
    }

    /** Fails every held proposal, as a log that is too busy does. */
    void fail() {
        for (Pending p : held) {
            p.done().completeExceptionally(EtcdErrors.TOO_MANY_REQUESTS);
        }
        held.clear();
    }

    @Override
    public void close() {
    }
}
