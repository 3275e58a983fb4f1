package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The wait registry with deadlines: who leaves when, and what a timeout looks like to a client. */
class WaitsTest {
    /** Deadlines and sweeps are given, not read from a clock: a sweep at NOW finds DUE past, LATER not. */
    private static final long DUE = 100;
    private static final long NOW = 150;
    private static final long LATER = 200;

    /** A caller registered under {@code id} until {@code deadlineNanos}. */
    private static CompletableFuture<String> waiting(Waits<String> waits, long id, long deadlineNanos) {
        CompletableFuture<String> done = new CompletableFuture<>();
        waits.add(id, done, deadlineNanos);
        return done;
    }

    @Test
    void aCallerTakenOutNoLongerExpiresButOneFoundStillDoes() {
        Waits<String> waits = new Waits<>();
        CompletableFuture<String> taken = waiting(waits, 1, DUE);
        CompletableFuture<String> found = waiting(waits, 2, DUE);
        assertSame(taken, waits.take(1));
        assertNull(waits.take(1), "taken once");
        assertSame(found, waits.find(2));
        assertSame(found, waits.find(2), "found, not taken");
        waits.expire(NOW);
        assertFalse(taken.isDone(), "a caller taken out is its taker's to complete");
        assertTrue(found.isCompletedExceptionally(), "a read whose index is not reached in time times out");
        assertNull(waits.find(2));
    }

    @Test
    void expireFailsOnlyCallersPastTheirDeadlineWithEtcdsTimeout() {
        Waits<String> waits = new Waits<>();
        CompletableFuture<String> due = waiting(waits, 1, DUE);
        CompletableFuture<String> later = waiting(waits, 2, LATER);
        waits.expire(NOW);
        assertTrue(due.isCompletedExceptionally());
        assertFalse(later.isDone());
        assertEquals(1, waits.size(), "the one that failed left");
        CompletionException failure = assertThrows(CompletionException.class, due::join);
        Status status = EtcdErrors.toStatus(failure).getStatus();
        assertEquals(Status.Code.UNAVAILABLE, status.getCode());
        assertEquals("etcdserver: request timed out", status.getDescription());
    }

    @Test
    void aCallerCompletedElsewhereLeaves() {
        Waits<String> waits = new Waits<>();
        CompletableFuture<String> done = waiting(waits, 1, LATER);
        done.cancel(false);
        assertEquals(0, waits.size());
        assertNull(waits.take(1));
    }

    @Test
    void failAllFailsEveryCallerWithTheCause() {
        Waits<String> waits = new Waits<>();
        CompletableFuture<String> a = waiting(waits, 1, LATER);
        CompletableFuture<String> b = waiting(waits, 2, LATER);
        waits.failAll(EtcdErrors.STOPPING);
        assertEquals(EtcdErrors.STOPPING, assertThrows(CompletionException.class, a::join).getCause());
        assertEquals(EtcdErrors.STOPPING, assertThrows(CompletionException.class, b::join).getCause());
        assertEquals(0, waits.size());
    }
}
