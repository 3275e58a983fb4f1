package io.vigil.robustness.check;

import static io.vigil.robustness.check.Histories.M1;
import static io.vigil.robustness.check.Histories.M2;
import static io.vigil.robustness.check.Histories.b;
import static io.vigil.robustness.check.Histories.getAnswer;
import static io.vigil.robustness.check.Histories.getOp;
import static io.vigil.robustness.check.Histories.putAnswer;
import static io.vigil.robustness.check.Histories.putOp;
import static io.vigil.robustness.check.Histories.versionEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.robustness.check.Histories.Store;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinearizabilityTest {

    static List<Violation> check(Histories h) {
        return Checkers.checkAll(h.build()).violations();
    }

    static Violation only(Violation.Kind kind, List<Violation> violations) {
        assertEquals(1, violations.size(), () -> "expected one " + kind + ", got " + violations);
        assertEquals(kind, violations.get(0).kind(), () -> violations.toString());
        return violations.get(0);
    }

    static void watchEverything(Histories h, Store store) {
        h.watcher(1, M1).create(0, 1).all(100, store);
        h.watcher(2, M2).create(0, 1).all(100, store);
    }

    /** put a, put b, txn on a, delete b, concurrent and sequential reads: every check passes. */
    @Test
    void aLinearizableHistoryPasses() {
        Store s = new Store();
        Histories h = new Histories();
        h.get(1, 0, 5, "a", 1); // the empty store
        s.put("a", "1"); // 2
        h.put(1, 10, 20, "a", "1", 2);
        h.get(2, 15, 25, "a", 1); // concurrent with the put: may see before it
        h.get(3, 21, 30, "a", 2, s.get("a"));
        s.put("b", "2"); // 3
        h.put(2, 30, 40, "b", "2", 3);
        KeyValue a = s.get("a");
        s.put("a", "3"); // 4
        h.txn(1, 41, 50, TxnRequest.newBuilder().addCompare(versionEquals("a", 1)).addSuccess(putOp("a", "3"))
                .addFailure(getOp("a")).build(), true, 4, putAnswer());
        h.txn(2, 51, 55, TxnRequest.newBuilder().addCompare(versionEquals("a", 1)).addSuccess(putOp("a", "4"))
                .addFailure(getOp("a")).build(), false, 4, getAnswer(s.get("a")));
        KeyValue bKv = s.get("b");
        s.delete("b"); // 5
        h.delete(3, 56, 60, "b", "", true, 5, bKv);
        h.delete(1, 61, 65, "b", "", false, 5); // nothing to delete: a read at 5
        h.range(2, M1, 66, 70, RangeRequest.newBuilder().setKey(b("a")).setRangeEnd(b("\0")).build(), 5, 1, false, s.get("a"));
        h.serializableGet(3, M2, 66, 70, "a", 4, s.get("a"));
        h.get(1, 71, 75, "a", 5, s.get("a"));
        h.range(2, M1, 76, 80, RangeRequest.newBuilder().setKey(b("a")).setRevision(2).build(), 5, 1, false, a);
        watchEverything(h, s);
        CheckReport report = Checkers.checkAll(h.build());
        assertTrue(report.ok(), report::summary);
        assertEquals(5, report.lastRevision());
    }

    @Test
    void staleReadIsReported() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        h.get(3, 30, 40, "a", 1); // called after revision 2 was acknowledged, answers revision 1
        watchEverything(h, s);
        Violation v = only(Violation.Kind.STALE_READ, check(h));
        assertTrue(v.message().contains("client 3") && v.message().contains("answered revision 1")
                && v.message().contains("revision 2 was acknowledged at 0.020s"), v.message());
        assertEquals(1, v.operation());
    }

    @Test
    void aReadOverlappingTheWriteMaySeeEitherState() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        h.get(3, 5, 40, "a", 1);
        h.get(4, 5, 15, "a", 2, s.get("a"));
        watchEverything(h, s);
        assertEquals(List.of(), check(h));
    }

    @Test
    void aReadOfARevisionBeforeItsWriteWasCalledIsFromTheFuture() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.get(3, 0, 5, "a", 2, s.get("a"));
        h.put(1, 10, 20, "a", "1", 2);
        watchEverything(h, s);
        only(Violation.Kind.READ_FROM_FUTURE, check(h));
    }

    @Test
    void aLaterWriteWithALowerRevisionBreaksTheOrder() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        s.put("b", "1");
        h.put(2, 10, 20, "b", "1", 3);
        h.put(1, 30, 40, "a", "1", 2);
        watchEverything(h, s);
        only(Violation.Kind.WRITE_ORDER, check(h));
    }

    @Test
    void anAcknowledgedWriteNoWatcherSawIsLost() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        h.put(2, 30, 40, "b", "1", 3); // acknowledged, but the store never shows it
        watchEverything(h, s);
        List<Violation> violations = check(h);
        assertEquals(List.of(Violation.Kind.REVISION_NOT_WATCHED, Violation.Kind.LOST_WRITE),
                violations.stream().map(Violation::kind).toList(), violations::toString);
    }

    @Test
    void anAcknowledgedWriteReplacedByAnotherIsLost() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "2");
        h.put(1, 10, 20, "a", "1", 2); // acknowledged a=1 at 2, but revision 2 holds a=2
        h.putUnknown(2, 10, 30, "a", "2");
        watchEverything(h, s);
        only(Violation.Kind.LOST_WRITE, check(h));
    }

    @Test
    void twoWritesAcknowledgedAtOneRevisionAreADuplicate() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        h.put(2, 10, 20, "b", "1", 2);
        watchEverything(h, s);
        Violation v = only(Violation.Kind.DUPLICATE_REVISION, check(h));
        assertEquals(1, v.operation(), "the put whose effect is not at revision 2 is blamed");
    }

    @Test
    void aTxnThatTookTheWrongBranchIsReported() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        s.put("a", "2"); // the store applied the success branch although version(a) is 1, not 0
        h.txn(1, 30, 40, TxnRequest.newBuilder().addCompare(versionEquals("a", 0)).addSuccess(putOp("a", "2")).build(),
                true, 3, putAnswer());
        watchEverything(h, s);
        Violation v = only(Violation.Kind.WRONG_TXN_BRANCH, check(h));
        assertTrue(v.message().contains("version(a) == 0 is false"), v.message());
    }

    @Test
    void aTxnReadingTheWrongValueIsAWrongResponse() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        h.txn(2, 30, 40, TxnRequest.newBuilder().addCompare(versionEquals("a", 5)).addFailure(getOp("a")).build(),
                false, 2, getAnswer());
        watchEverything(h, s);
        only(Violation.Kind.WRONG_RESPONSE, check(h));
    }

    @Test
    void aSerializableReadGoingBackInTimeIsReported() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        h.serializableGet(2, M2, 30, 35, "a", 2, s.get("a"));
        h.serializableGet(2, M2, 40, 45, "a", 1); // same member, called after the first returned
        h.serializableGet(3, M1, 40, 45, "a", 1); // another member may lag
        watchEverything(h, s);
        Violation v = only(Violation.Kind.SERIALIZABLE_BACKWARDS, check(h));
        assertEquals(2, v.operation());
    }

    @Test
    void aSerializableReadOfARevisionNotYetWrittenIsReported() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.serializableGet(2, M2, 0, 5, "a", 2, s.get("a"));
        h.put(1, 10, 20, "a", "1", 2);
        watchEverything(h, s);
        only(Violation.Kind.SERIALIZABLE_FROM_FUTURE, check(h));
    }

    @Test
    void rangesHonourLimitCountKeysOnlyAndPrefixes() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("k/1", "x");
        h.put(1, 1, 2, "k/1", "x", 2);
        s.put("k/2", "y");
        h.put(1, 3, 4, "k/2", "y", 3);
        s.put("l", "z");
        h.put(1, 5, 6, "l", "z", 4);
        RangeRequest prefix = RangeRequest.newBuilder().setKey(b("k/")).setRangeEnd(b("k0")).build();
        h.range(2, M1, 10, 11, prefix.toBuilder().setLimit(1).build(), 4, 2, true, s.get("k/1"));
        h.range(2, M1, 12, 13, prefix.toBuilder().setCountOnly(true).build(), 4, 2, false);
        h.range(2, M1, 14, 15, prefix.toBuilder().setKeysOnly(true).build(), 4, 2, false,
                s.get("k/1").toBuilder().clearValue().build(), s.get("k/2").toBuilder().clearValue().build());
        watchEverything(h, s);
        assertEquals(List.of(), check(h));

        h.range(3, M1, 16, 17, prefix, 4, 3, false, s.get("k/1"), s.get("k/2")); // count 3 is wrong
        Violation v = only(Violation.Kind.WRONG_RESPONSE, check(h));
        assertTrue(v.message().contains("expected count 2, got 3"), v.message());
    }

    @Test
    void sortedRangesAreNotJudged() {
        Store s = new Store();
        Histories h = new Histories();
        h.range(2, M1, 10, 11, RangeRequest.newBuilder().setKey(b("a")).setSortOrder(RangeRequest.SortOrder.DESCEND).build(),
                1, 0, false);
        watchEverything(h, s);
        only(Violation.Kind.UNSUPPORTED_REQUEST, check(h));
    }

    @Test
    void aReadCalledAfterAWatcherSawARevisionMustSeeIt() {
        Store s = new Store();
        Histories h = new Histories();
        h.putUnknown(1, 10, 1000, "a", "1"); // its outcome never reached the client
        s.put("a", "1");
        h.watcher(1, M1).create(0, 1).events(20, s.revisions().get(0).get(0));
        h.get(3, 30, 40, "a", 1);
        Violation v = only(Violation.Kind.STALE_READ, check(h));
        assertTrue(v.message().contains("after watcher 1 on m1:2379 had received revision 2 at 0.020s"), v.message());
    }

    @Test
    void aWatcherCannotReceiveARevisionBeforeItsWriteWasCalled() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.watcher(1, M1).create(0, 1).events(5, s.revisions().get(0).get(0));
        h.put(1, 10, 20, "a", "1", 2);
        Violation v = only(Violation.Kind.READ_FROM_FUTURE, check(h));
        assertEquals(1, v.watcher());
    }

    @Test
    void everyStaleReadIsReportedOnceAndBlamesNothingAfterIt() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 50, "a", "1", 2);
        s.put("b", "1");
        h.put(2, 10, 40, "b", "1", 3); // concurrent with the first, acknowledged earlier: fine
        h.get(3, 60, 70, "a", 1);
        h.get(4, 61, 70, "a", 1);
        watchEverything(h, s);
        List<Violation> violations = check(h);
        assertEquals(List.of(Violation.Kind.STALE_READ, Violation.Kind.STALE_READ),
                violations.stream().map(Violation::kind).toList(), violations::toString);
        assertEquals(List.of(2, 3), violations.stream().map(Violation::operation).toList());
    }

    @Test
    void aReadStaleOnlyAgainstALaterRevisionIsReportedAgainstIt() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 50, "a", "1", 2);
        s.put("b", "1");
        h.put(2, 10, 40, "b", "1", 3);
        h.get(3, 45, 70, "a", 1); // called before revision 2 was acknowledged, after revision 3 was
        watchEverything(h, s);
        Violation v = only(Violation.Kind.STALE_READ, check(h));
        assertTrue(v.message().contains("after revision 3 was acknowledged at 0.040s"), v.message());
    }
}
