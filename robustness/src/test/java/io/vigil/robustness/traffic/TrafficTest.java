package io.vigil.robustness.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.WatchRecord;
import io.vigil.proto.mvccpb.Event;
import io.vigil.robustness.history.History;
import io.vigil.robustness.history.Recorder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The traffic against one real etcd 3.4 process: the history it records is well formed. */
class TrafficTest {
    /** What the traffic sends: every kind of request but defragment (the nemesis's). */
    private static final Set<Request.KindCase> EVERY_KIND = EnumSet.range(Request.KindCase.RANGE, Request.KindCase.LEASE_KEEP_ALIVE);

    @TempDir
    Path dir;

    private static Set<Request.KindCase> succeeded(History history) {
        return history.operations().stream()
                .filter(Operation::hasResponse).map(o -> o.getRequest().getKindCase())
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(Request.KindCase.class)));
    }

    @Test
    void mixedTrafficRecordsAWellFormedHistory() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start(dir)) {
            Recorder recorder = new Recorder();
            Traffic traffic = Traffic.start(() -> List.of(etcd.endpoint()), recorder, 42, Traffic.Kind.MIXED, 4);
            // 4 s, or longer on a slow machine until every kind of request succeeded (at most 20 s)
            Thread.sleep(4000);
            for (int i = 0; i < 32 && !succeeded(recorder.history()).equals(EVERY_KIND); i++) {
                Thread.sleep(500);
            }
            traffic.stop();
            long finalRevision = linearizableRevision(etcd.endpoint());
            Traffic.CatchUp catchUp = traffic.awaitWatchersCaughtUp(finalRevision, Duration.ofSeconds(20));
            assertTrue(catchUp.caughtUp(), catchUp.problems().toString());
            assertEquals(Map.of(0, finalRevision), traffic.reachedRevisions());

            History history = recorder.history();
            assertWellFormed(history, finalRevision);
            // no fault was injected, so every error is one etcd refuses before changing anything, or a
            // call that outlived its deadline on this shared machine
            for (Operation op : history.operations()) {
                if (op.hasError() && !op.getError().startsWith("DEADLINE_EXCEEDED")) {
                    assertTrue(op.getDefinitelyFailed(), () -> "unexpected error: " + op);
                }
            }
            assertEquals(EVERY_KIND, succeeded(history), "every kind of request but defragment succeeded at least once");
            // informers: watches of a resource prefix with progress requests, their lists paged at one revision
            List<WatchRecord> informerCreates = history.watches().stream()
                    .filter(w -> w.hasCreate() && w.getCreate().getKey().toStringUtf8().startsWith("/registry/")).toList();
            assertFalse(informerCreates.isEmpty(), "an informer watched");
            assertTrue(informerCreates.stream().allMatch(w -> w.getCreate().getProgressNotify() && w.getCreate().getPrevKv()));
            assertTrue(history.watches().stream().anyMatch(WatchRecord::getProgressRequested), "progress was requested");
            assertTrue(history.operations().stream().anyMatch(o -> o.getRequest().hasRange()
                    && o.getRequest().getRange().getRevision() > 0 && o.getRequest().getRange().getLimit() > 0),
                    "a list read a next page at its first page's revision");

            Path file = dir.resolve("history.jsonl");
            history.write(file);
            assertEquals(history, History.read(file));
        }
        assertNoTrafficThreads();
    }

    @Test
    void watcherResumesAfterItsMemberWasKilledAndRestarted() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start(dir)) {
            Recorder recorder = new Recorder();
            Traffic traffic = Traffic.start(() -> List.of(etcd.endpoint()), recorder, 7, Traffic.Kind.MIXED, 4);
            Thread.sleep(1500);
            etcd.kill();
            Thread.sleep(1000);
            assertTrue(etcd.startAgain(), "etcd restarted");
            Thread.sleep(1500);
            traffic.stop();
            long finalRevision = linearizableRevision(etcd.endpoint());
            Traffic.CatchUp catchUp = traffic.awaitWatchersCaughtUp(finalRevision, Duration.ofSeconds(20));
            assertTrue(catchUp.caughtUp(), catchUp.problems().toString());

            History history = recorder.history();
            assertWellFormed(history, finalRevision);
            assertTrue(history.operations().stream().anyMatch(o -> o.hasError() && !o.getDefinitelyFailed()),
                    "calls failed with an unknown outcome while etcd was down");
            assertTrue(history.watches().stream().filter(w -> w.getWatcher() == 0).filter(WatchRecord::hasCreate).count() > 1,
                    "the watcher watched again");
        }
        assertNoTrafficThreads();
    }

    @Test
    void watcherOfAMemberThatLeftTheClusterMovesToAnotherAndMissesNothing() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start(dir)) {
            // a member that never answers, and that the nemesis then removes from the cluster
            String gone = "127.0.0.1:" + EtcdProcess.freePort();
            AtomicReference<List<String>> endpoints = new AtomicReference<>(List.of(gone, etcd.endpoint()));
            Recorder recorder = new Recorder();
            Traffic traffic = Traffic.start(endpoints::get, recorder, 11, Traffic.Kind.ETCD, 2);
            Thread.sleep(1500);
            long removedAt = recorder.now();
            endpoints.set(List.of(etcd.endpoint()));
            Thread.sleep(1500);
            traffic.stop();
            long finalRevision = linearizableRevision(etcd.endpoint());
            Traffic.CatchUp catchUp = traffic.awaitWatchersCaughtUp(finalRevision, Duration.ofSeconds(20));
            assertTrue(catchUp.caughtUp(), catchUp.problems().toString());

            History history = recorder.history();
            assertWellFormed(history, finalRevision);
            assertTrue(history.watches().stream().anyMatch(w -> w.getWatcher() == 0 && w.getMember().equals(gone)
                    && w.getError().startsWith("member left the cluster")), "the move was recorded");
            assertTrue(history.watches().stream().anyMatch(w -> w.getWatcher() == 0 && w.hasCreate()
                    && w.getMember().equals(etcd.endpoint())), "watcher 0 went on on the remaining member");
            // a client reads the member set just before it takes a call's time: allow that instant
            long settled = removedAt + TimeUnit.MILLISECONDS.toNanos(100);
            assertTrue(history.operations().stream().noneMatch(o -> o.getMember().equals(gone) && o.getCallNanos() > settled),
                    "no client called the removed member after it left");
        }
        assertNoTrafficThreads();
    }

    /**
     * Operations: a client's calls never overlap; a response answers its request's kind. Puts:
     * every value unique. Key-space watchers: events in revision order, each revision from 2 to
     * the final one exactly once (at least one event each, all in one response), every event's
     * value one that was put, every acknowledged put in its response's revision.
     */
    static void assertWellFormed(History history, long finalRevision) {
        System.out.println(summary(history, finalRevision));
        // a low bar: the machine running the tests is shared and may be slow
        assertTrue(history.operations().stream().filter(Operation::hasResponse).count() > 20, "traffic made progress");
        Map<Integer, List<Operation>> byClient = history.operations().stream()
                .collect(Collectors.groupingBy(Operation::getClient));
        for (List<Operation> ops : byClient.values()) {
            long lastReturn = 0;
            for (Operation op : ops) {
                assertTrue(op.getCallNanos() >= lastReturn && op.getReturnNanos() >= op.getCallNanos(), op::toString);
                lastReturn = op.getReturnNanos();
                if (op.hasResponse()) {
                    assertEquals(op.getRequest().getKindCase().getNumber(), op.getResponse().getKindCase().getNumber());
                } else {
                    assertFalse(op.getError().isEmpty());
                }
            }
        }

        List<String> values = new ArrayList<>();
        for (Operation op : history.operations()) {
            Request r = op.getRequest();
            if (r.hasPut()) {
                values.add(r.getPut().getValue().toStringUtf8());
            } else if (r.hasTxn()) {
                for (RequestOp o : r.getTxn().getSuccessList()) {
                    if (o.hasRequestPut()) {
                        values.add(o.getRequestPut().getValue().toStringUtf8());
                    }
                }
                for (RequestOp o : r.getTxn().getFailureList()) {
                    if (o.hasRequestPut()) {
                        values.add(o.getRequestPut().getValue().toStringUtf8());
                    }
                }
            }
        }
        Set<String> unique = new HashSet<>(values);
        // a txn that puts one key twice (refused as duplicate) repeats no value: each put op draws its own
        assertEquals(values.size(), unique.size(), "every put value is unique");

        Set<Integer> keyspaceWatchers = history.watches().stream()
                .filter(w -> w.hasCreate() && w.getCreate().getKey().equals(KeyspaceWatcher.ALL_KEYS))
                .map(WatchRecord::getWatcher).collect(Collectors.toSet());
        assertFalse(keyspaceWatchers.isEmpty());
        Map<Long, Map<String, String>> putsByRevision = new HashMap<>();
        for (int watcher : keyspaceWatchers) {
            TreeSet<Long> revisions = new TreeSet<>();
            long last = 0;
            for (WatchRecord w : history.watches()) {
                if (w.getWatcher() != watcher || !w.hasResponse() || w.getResponse().getEventsCount() == 0) {
                    continue;
                }
                long first = w.getResponse().getEvents(0).getKv().getModRevision();
                assertTrue(first > last, "watcher " + watcher + ": revision " + first + " after " + last + " (atomic, ordered)");
                for (Event e : w.getResponse().getEventsList()) {
                    long rev = e.getKv().getModRevision();
                    assertTrue(rev >= last, "ordered");
                    last = rev;
                    revisions.add(rev);
                    if (e.getType() == Event.EventType.PUT) {
                        assertTrue(unique.contains(e.getKv().getValue().toStringUtf8()), () -> "a value that was put: " + e);
                        putsByRevision.computeIfAbsent(rev, r -> new HashMap<>())
                                .put(e.getKv().getKey().toStringUtf8(), e.getKv().getValue().toStringUtf8());
                    }
                }
            }
            assertEquals(finalRevision - 1, revisions.size(), "watcher " + watcher + " saw an event of every revision");
            assertEquals(2L, revisions.first());
            assertEquals(finalRevision, revisions.last());
        }
        for (Operation op : history.operations()) {
            if (op.hasResponse() && op.getRequest().hasPut()) {
                var put = op.getRequest().getPut();
                long rev = op.getResponse().getPut().getHeader().getRevision();
                assertEquals(put.getValue().toStringUtf8(),
                        putsByRevision.getOrDefault(rev, Map.of()).get(put.getKey().toStringUtf8()),
                        () -> "the watchers saw the acknowledged put at its revision: " + op);
            }
        }
    }

    /** What the run did, by request kind and outcome, for the test's log. */
    static String summary(History history, long finalRevision) {
        Map<String, Long> counts = new java.util.TreeMap<>();
        for (Operation op : history.operations()) {
            String outcome = op.hasResponse() ? "ok" : (op.getDefinitelyFailed() ? "failed " : "unknown ") + op.getError();
            counts.merge(op.getRequest().getKindCase() + " " + outcome, 1L, Long::sum);
        }
        for (WatchRecord w : history.watches()) {
            counts.merge("watch " + w.getKindCase() + (w.hasError() ? " " + w.getError() : ""), 1L, Long::sum);
        }
        StringBuilder b = new StringBuilder("final revision " + finalRevision + "\n");
        counts.forEach((k, v) -> b.append(String.format("%6d %s%n", v, k)));
        return b.toString();
    }

    private static long linearizableRevision(String endpoint) throws InterruptedException {
        int colon = endpoint.lastIndexOf(':');
        ManagedChannel channel = NettyChannelBuilder.forAddress(endpoint.substring(0, colon),
                Integer.parseInt(endpoint.substring(colon + 1))).usePlaintext().build();
        try {
            return KVGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .range(RangeRequest.newBuilder().setKey(Keys.key("final")).build()).getHeader().getRevision();
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void assertNoTrafficThreads() {
        List<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive).map(Thread::getName).filter(n -> n.startsWith("traffic-")).toList();
        assertEquals(List.of(), left, "every traffic thread ended");
    }
}
