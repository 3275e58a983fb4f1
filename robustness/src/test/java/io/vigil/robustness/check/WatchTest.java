package io.vigil.robustness.check;

import static io.vigil.robustness.check.Histories.M1;
import static io.vigil.robustness.check.Histories.M2;
import static io.vigil.robustness.check.Histories.b;
import static io.vigil.robustness.check.LinearizabilityTest.only;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import io.vigil.robustness.check.Histories.Store;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The merged watch history (members agree, every revision seen) and the per-watcher guarantees. */
class WatchTest {

    /** Three revisions written by acknowledged puts: a, b, a again. */
    static Store threePuts(Histories h) {
        Store s = new Store();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        s.put("b", "1");
        h.put(1, 30, 40, "b", "1", 3);
        s.put("a", "2");
        h.put(1, 50, 60, "a", "2", 4);
        return s;
    }

    static List<Violation> check(Histories h) {
        return Checkers.checkAll(h.build()).violations();
    }

    static Event at(Store s, int revision) {
        return s.revisions().get(revision - 2).get(0);
    }

    @Test
    void watchersThatSawEverythingPass() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).events(25, at(s, 2)).progress(45, 2).events(65, at(s, 3), at(s, 4));
        h.watcher(2, M2).create(0, 1).all(70, s);
        assertEquals(List.of(), check(h));
    }

    @Test
    void aWatcherMissingAnEventHasAGap() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M2).create(0, 1).events(25, at(s, 2)).events(65, at(s, 4));
        Violation v = only(Violation.Kind.WATCH_GAP, check(h));
        assertEquals(2, v.watcher());
        assertEquals(3, v.revision());
        assertTrue(v.message().contains("missed 1 event(s): [put b=1"), v.message());
    }

    @Test
    void aRevisionNoWatcherSawIsReportedOnce() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).events(25, at(s, 2)).events(65, at(s, 4));
        List<Violation> violations = check(h);
        // nobody saw 3, so the put acknowledged at 3 is lost, and the watcher has no gap against the merged history
        assertEquals(List.of(Violation.Kind.REVISION_NOT_WATCHED, Violation.Kind.LOST_WRITE),
                violations.stream().map(Violation::kind).toList(), violations::toString);
    }

    @Test
    void anEventTwiceIsADuplicate() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M2).create(0, 1).events(25, at(s, 2)).events(45, at(s, 3)).events(46, at(s, 3)).events(65, at(s, 4));
        Violation v = only(Violation.Kind.WATCH_DUPLICATE, check(h));
        assertEquals(2, v.watcher());
    }

    @Test
    void eventsGoingBackAreUnordered() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M2).create(0, 1).events(25, at(s, 2)).events(65, at(s, 4)).events(66, at(s, 3));
        only(Violation.Kind.WATCH_ORDER, check(h));
    }

    @Test
    void aRevisionSplitAcrossResponsesIsNotAtomic() {
        Histories h = new Histories();
        Store s = new Store();
        s.begin();
        Event a = s.put("a", "1");
        Event c = s.put("c", "1");
        s.commit();
        h.txn(1, 10, 20, TxnRequest.newBuilder().addSuccess(Histories.putOp("a", "1"))
                .addSuccess(Histories.putOp("c", "1")).build(), true, 2, Histories.putAnswer(), Histories.putAnswer());
        h.watcher(1, M1).create(0, 1).events(25, a, c);
        h.watcher(2, M2).create(0, 1).events(25, a).events(26, c);
        Violation v = only(Violation.Kind.WATCH_ATOMIC, check(h));
        assertEquals(2, v.watcher());
    }

    @Test
    void anEventAtOrBelowAProgressNotificationBreaksTheBookmark() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M2).create(0, 1).events(25, at(s, 2)).progress(45, 3).events(46, at(s, 3)).events(65, at(s, 4));
        Violation v = only(Violation.Kind.WATCH_BOOKMARK, check(h));
        assertEquals(3, v.revision());
    }

    @Test
    void aResumeFromTheNextRevisionPasses() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M1).create(0, 1).events(25, at(s, 2)).error(30, "connection reset");
        h.watcher(2, M2).create(31, 3).events(65, at(s, 3), at(s, 4));
        assertEquals(List.of(), check(h));
    }

    @Test
    void aResumeThatSkipsTheFirstEventIsWrong() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M1).create(0, 1).events(25, at(s, 2)).error(30, "connection reset");
        h.watcher(2, M2).create(31, 3).events(65, at(s, 4));
        List<Violation> violations = check(h);
        assertEquals(List.of(Violation.Kind.WATCH_RESUME, Violation.Kind.WATCH_GAP),
                violations.stream().map(Violation::kind).toList(), violations::toString);
        assertTrue(violations.get(0).message().contains("watching from revision 3 first got put a=2"),
                violations.get(0).message());
    }

    @Test
    void aCompactedWatchEndsItsReliabilityAndIsNoted() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M2).create(0, 1).events(25, at(s, 2)).response(30, WatchResponse.newBuilder()
                .setHeader(Histories.header(3)).setCanceled(true).setCompactRevision(3).build());
        CheckReport report = Checkers.checkAll(h.build());
        assertTrue(report.ok(), report::summary);
        assertEquals(List.of("watcher 2 on m2:2379 compacted at revision 3 at 0.030s, asked from revision 1"), report.notes());
    }

    @Test
    void aWatchOfOneKeyIsJudgedOnItsKeyAlone() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        WatchCreateRequest onlyA = WatchCreateRequest.newBuilder().setKey(b("a")).setStartRevision(1).build();
        h.watcher(2, M2).create(0, onlyA).events(25, at(s, 2)).events(65, at(s, 4));
        assertEquals(List.of(), check(h));
        h.watcher(3, M2).create(0, onlyA).events(25, at(s, 2)).events(45, at(s, 3)).events(65, at(s, 4));
        Violation v = only(Violation.Kind.WATCH_UNEXPECTED_EVENT, check(h));
        assertEquals(3, v.watcher());
    }

    @Test
    void membersThatDisagreeOnARevisionAreReported() {
        Histories h = new Histories();
        Store s = threePuts(h);
        Event other = at(s, 3).toBuilder().setKv(at(s, 3).getKv().toBuilder().setValue(b("other"))).build();
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M2).create(0, 1).events(25, at(s, 2)).events(45, other).events(65, at(s, 4));
        Violation v = only(Violation.Kind.MEMBERS_DISAGREE, check(h));
        assertTrue(v.message().contains("watcher 2 on m2:2379 got put b=other") && v.message().contains("watcher 1 on m1:2379 got put b=1"),
                v.message());
    }

    @Test
    void membersThatOrderARevisionDifferentlyAreReported() {
        Histories h = new Histories();
        Store s = new Store();
        s.begin();
        Event a = s.put("a", "1");
        Event c = s.put("c", "1");
        s.commit();
        h.txn(1, 10, 20, TxnRequest.newBuilder().addSuccess(Histories.putOp("a", "1"))
                .addSuccess(Histories.putOp("c", "1")).build(), true, 2, Histories.putAnswer(), Histories.putAnswer());
        h.watcher(1, M1).create(0, 1).events(25, a, c);
        h.watcher(2, M2).create(0, 1).events(25, c, a);
        only(Violation.Kind.MEMBERS_DISAGREE, check(h));
    }

    @Test
    void aResumeFromTooLateARevisionLeavesAGap() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M1).create(0, 1).events(25, at(s, 2)).error(30, "connection reset");
        h.watcher(2, M2).create(31, 4).events(65, at(s, 4)); // should have resumed from 3
        Violation v = only(Violation.Kind.WATCH_GAP, check(h));
        assertEquals(3, v.revision());
    }

    @Test
    void aWatchRecreatedAfterCompactionStartsANewWindow() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.watcher(2, M2).create(0, 1).events(25, at(s, 2)).response(30, WatchResponse.newBuilder()
                .setHeader(Histories.header(3)).setCanceled(true).setCompactRevision(4).build());
        h.watcher(2, M2).create(31, 4).events(65, at(s, 4));
        assertEquals(List.of(), check(h));
    }

    @Test
    void aWatchAskingForPrevKvGetsTheKeyAsItWasBefore() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        WatchCreateRequest withPrev = WatchCreateRequest.newBuilder().setKey(b("a")).setStartRevision(1).setPrevKv(true).build();
        Event secondA = at(s, 4).toBuilder().setPrevKv(at(s, 2).getKv()).build();
        h.watcher(2, M2).create(0, withPrev).events(25, at(s, 2)).events(65, secondA);
        assertEquals(List.of(), check(h));
        Event wrong = at(s, 4).toBuilder().setPrevKv(at(s, 4).getKv()).build();
        h.watcher(3, M2).create(0, withPrev).events(25, at(s, 2)).events(65, wrong);
        Violation v = only(Violation.Kind.WATCH_PREV_KV, check(h));
        assertEquals(3, v.watcher());
    }

    @Test
    void anEventSentAfterItsPreviousRevisionWasCompactedMayLackPrevKv() {
        // etcd reads prev_kv when it sends the event; compacted by then, it sends none (etcd 3.4 did
        // so in a long robustness run)
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        WatchCreateRequest withPrev = WatchCreateRequest.newBuilder().setKey(b("a")).setStartRevision(1).setPrevKv(true).build();
        h.watcher(2, M2).create(0, withPrev).events(25, at(s, 2)).events(65, at(s, 4));
        assertEquals(Violation.Kind.WATCH_PREV_KV, only(Violation.Kind.WATCH_PREV_KV, check(h)).kind(),
                "no compaction: the missing prev_kv is wrong");
        h.op(2, M1, 61, 62, io.vigil.proto.history.Request.newBuilder().setCompaction(
                        io.vigil.proto.etcdserverpb.CompactionRequest.newBuilder().setRevision(4)).build(),
                io.vigil.proto.history.Response.newBuilder().setCompaction(
                        io.vigil.proto.etcdserverpb.CompactionResponse.newBuilder().setHeader(Histories.header(4))).build());
        assertEquals(List.of(), check(h));
    }

    @Test
    void aRevisionNoRunCanReachIsReportedAndLeftOut() {
        Histories h = new Histories();
        Store s = threePuts(h);
        h.watcher(1, M1).create(0, 1).all(70, s);
        h.get(2, 80, 90, "a", 1L << 40);
        Violation v = only(Violation.Kind.IMPOSSIBLE_REVISION, check(h));
        assertEquals(3, v.operation());
        assertEquals(4, Checkers.checkAll(h.build()).lastRevision());

        h.watcher(2, M2).create(0, 1).all(70, s).progress(80, 1L << 40);
        List<Violation> violations = check(h);
        assertEquals(List.of(Violation.Kind.IMPOSSIBLE_REVISION, Violation.Kind.IMPOSSIBLE_REVISION),
                violations.stream().map(Violation::kind).toList(), violations::toString);
    }
}
