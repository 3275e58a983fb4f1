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
    private static final long HOUR_NANOS = 3_600_000_000_000L;

    @Test
    void aCallerIsTakenOutOnceAndThenNoLongerExpires() {
        Waits<String> waits = new Waits<>();
        CompletableFuture<String> done = new CompletableFuture<>();
        waits.add(1, done, 0);
        assertSame(done, waits.take(1));
        assertNull(waits.take(1), "taken once");
        waits.expire(System.nanoTime());
        assertFalse(done.isDone(), "a caller taken out is its taker's to complete");
    }

    @Test
    void expireFailsOnlyCallersPastTheirDeadlineWithEtcdsTimeout() {
        Waits<String> waits = new Waits<>();
        CompletableFuture<String> due = new CompletableFuture<>();
        CompletableFuture<String> later = new CompletableFuture<>();
        waits.add(1, due, 0);
        waits.add(2, later, HOUR_NANOS);
        waits.expire(System.nanoTime());
        assertTrue(due.isCompletedExceptionally());
        assertFalse(later.isDone());
        assertEquals(1, waits.size(), "the one that failed left");
        CompletionException failure = assertThrows(CompletionException.class, due::join);
        Status status = EtcdErrors.toStatus(failure).getStatus();
        assertEquals(Status.Code.UNAVAILABLE, status.getCode());
        assertEquals("etcdserver: request timed out", status.getDescription());
    }

    @Test
    void aCallerFoundStaysAndStillTimesOut() {
        Waits<String> waits = new Waits<>();
        CompletableFuture<String> done = new CompletableFuture<>();
        waits.add(1, done, 0);
        assertSame(done, waits.find(1));
        assertSame(done, waits.find(1), "found, not taken");
        waits.expire(System.nanoTime());
        assertTrue(done.isCompletedExceptionally(), "a read whose index is not reached in time times out");
        assertNull(waits.find(1));
    }

    @Test
    void aCallerCompletedElsewhereLeaves() {
        Waits<String> waits = new Waits<>();
        CompletableFuture<String> done = new CompletableFuture<>();
        waits.add(1, done, HOUR_NANOS);
        done.cancel(false);
        assertEquals(0, waits.size());
        assertNull(waits.take(1));
    }

    @Test
    void failAllFailsEveryCallerWithTheCause() {
        Waits<String> waits = new Waits<>();
        CompletableFuture<String> a = new CompletableFuture<>();
        CompletableFuture<String> b = new CompletableFuture<>();
        waits.add(1, a, HOUR_NANOS);
        waits.add(2, b, HOUR_NANOS);
        waits.failAll(EtcdErrors.STOPPING);
        assertEquals(EtcdErrors.STOPPING, assertThrows(CompletionException.class, a::join).getCause());
        assertEquals(EtcdErrors.STOPPING, assertThrows(CompletionException.class, b::join).getCause());
        assertEquals(0, waits.size());
    }
}
