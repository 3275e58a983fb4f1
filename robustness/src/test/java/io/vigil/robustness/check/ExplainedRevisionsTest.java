package io.vigil.robustness.check;

import static io.vigil.robustness.check.Histories.M1;
import static io.vigil.robustness.check.Histories.b;
import static io.vigil.robustness.check.Histories.putOp;
import static io.vigil.robustness.check.Histories.versionEquals;
import static io.vigil.robustness.check.LinearizabilityTest.check;
import static io.vigil.robustness.check.LinearizabilityTest.only;
import static io.vigil.robustness.check.LinearizabilityTest.watchEverything;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeResponse;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import io.vigil.robustness.check.Histories.Store;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Revisions no acknowledged write names: written by a request whose outcome is unknown, by a
 * lease's end, or by nobody; and requests that failed for sure.
 */
class ExplainedRevisionsTest {
    @Test
    void anUnknownPutThatHappenedExplainsItsRevisionAndOneThatDidNotIsFine() {
        Store s = new Store();
        Histories h = new Histories();
        h.putUnknown(1, 10, 20, "a", "1");
        h.putUnknown(2, 10, 20, "a", "never");
        s.put("a", "1");
        h.get(3, 50, 60, "a", 2, s.get("a"));
        watchEverything(h, s);
        assertEquals(List.of(), check(h));
    }

    @Test
    void anUnknownPutCannotHaveHappenedBeforeItWasCalled() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.get(3, 0, 5, "a", 2, s.get("a"));
        h.putUnknown(1, 10, 20, "a", "1");
        watchEverything(h, s);
        only(Violation.Kind.READ_FROM_FUTURE, check(h));
    }

    @Test
    void aRevisionNoRequestWroteIsUnexplained() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        watchEverything(h, s);
        only(Violation.Kind.UNEXPLAINED_REVISION, check(h));
    }

    @Test
    void aLeaseExpiryDeletesExactlyItsKeys() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1", 7);
        h.putWithLease(1, 10, 20, "a", "1", 7, 2);
        s.put("b", "1", 7);
        h.putWithLease(1, 30, 40, "b", "1", 7, 3);
        s.begin();
        s.delete("a");
        s.delete("b");
        s.commit(); // 4: lease 7 expired
        watchEverything(h, s);
        assertEquals(List.of(), check(h));
    }

    @Test
    void deletingOnlySomeOfALeasesKeysIsNoExpiry() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1", 7);
        h.putWithLease(1, 10, 20, "a", "1", 7, 2);
        s.put("b", "1", 7);
        h.putWithLease(1, 30, 40, "b", "1", 7, 3);
        s.delete("a");
        watchEverything(h, s);
        only(Violation.Kind.UNEXPLAINED_REVISION, check(h));
    }

    @Test
    void aCompactedReadFailedDefinitely() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        h.failed(2, 30, 40, Histories.putRequest("b", "2"), "rpc error: mvcc: required revision has been compacted");
        watchEverything(h, s);
        assertEquals(List.of(), check(h));
        assertEquals(Op.Status.FAILED, new Op(1, h.build().operations().get(1)).status());
    }

    @Test
    void aRevokeAnsweredWhileItsKeysRemainIsReported() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1", 7);
        h.putWithLease(1, 10, 20, "a", "1", 7, 2);
        h.op(1, M1, 30, 40, Request.newBuilder().setLeaseRevoke(
                LeaseRevokeRequest.newBuilder().setID(7)).build(),
                Response.newBuilder().setLeaseRevoke(
                        LeaseRevokeResponse.newBuilder().setHeader(Histories.header(2))).build());
        watchEverything(h, s);
        Violation v = only(Violation.Kind.WRONG_WRITE, check(h));
        assertTrue(v.message().contains("lease keys kept"), v.message());

        s.delete("a"); // 3: the revoke deleted the lease's keys
        Histories fixed = new Histories();
        fixed.putWithLease(1, 10, 20, "a", "1", 7, 2);
        fixed.op(1, M1, 30, 40, Request.newBuilder().setLeaseRevoke(
                LeaseRevokeRequest.newBuilder().setID(7)).build(),
                Response.newBuilder().setLeaseRevoke(
                        LeaseRevokeResponse.newBuilder().setHeader(Histories.header(3))).build());
        watchEverything(fixed, s);
        assertEquals(List.of(), check(fixed));
    }

    @Test
    void anUnknownDeleteAndAnUnknownTxnExplainTheirRevisions() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        s.delete("a"); // 3
        h.failed(2, 30, 40, Request.newBuilder().setDeleteRange(
                DeleteRangeRequest.newBuilder().setKey(b("a"))).build(), "connection reset");
        s.put("a", "2"); // 4
        h.failed(3, 50, 60, Request.newBuilder().setTxn(TxnRequest.newBuilder()
                .addCompare(versionEquals("a", 0)).addSuccess(putOp("a", "2"))).build(), "context deadline exceeded");
        h.get(1, 70, 80, "a", 4, s.get("a"));
        watchEverything(h, s);
        assertEquals(List.of(), check(h));
    }

    @Test
    void ofUnknownWritesThatFitTheEarliestCalledExplainsTheRevision() {
        Store s = new Store();
        Histories h = new Histories();
        s.put("a", "1");
        h.put(1, 10, 20, "a", "1", 2);
        s.delete("a"); // 3: either delete may have done it
        var delete = Request.newBuilder().setDeleteRange(
                DeleteRangeRequest.newBuilder().setKey(b("a"))).build();
        h.failed(3, 50, 60, delete, "connection reset");
        h.failed(2, 30, 40, delete, "connection reset");
        h.get(4, 45, 48, "a", 3); // fits only if the delete called at 30 did it
        watchEverything(h, s);
        assertEquals(List.of(), check(h));
    }
}
