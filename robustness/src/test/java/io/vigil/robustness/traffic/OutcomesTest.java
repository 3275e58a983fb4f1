package io.vigil.robustness.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.history.Request;
import org.junit.jupiter.api.Test;

class OutcomesTest {
    private static final Request PUT = Request.newBuilder().setPut(PutRequest.newBuilder().setKey(Keys.key("a"))).build();
    private static final Request RANGE = Request.newBuilder().setRange(RangeRequest.newBuilder().setKey(Keys.key("a"))).build();
    private static final Request READ_ONLY_TXN = Request.newBuilder().setTxn(TxnRequest.newBuilder()
            .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(Keys.key("a"))))).build();
    private static final Request WRITING_TXN = Request.newBuilder().setTxn(TxnRequest.newBuilder()
            .addFailure(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(Keys.key("a"))))).build();

    @Test
    void errorsEtcdReturnsBeforeChangingAnythingAreDefinite() {
        assertTrue(Outcomes.definitelyFailed(WRITING_TXN,
                Status.INVALID_ARGUMENT.withDescription("etcdserver: duplicate key given in txn request")));
        assertTrue(Outcomes.definitelyFailed(WRITING_TXN,
                Status.OUT_OF_RANGE.withDescription("etcdserver: mvcc: required revision has been compacted")));
        assertTrue(Outcomes.definitelyFailed(PUT, Status.NOT_FOUND.withDescription("etcdserver: requested lease not found")));
    }

    @Test
    void unavailableTimeoutsAndStrangersAreNeverDefiniteForWrites() {
        assertFalse(Outcomes.definitelyFailed(PUT, Status.UNAVAILABLE.withDescription("etcdserver: request timed out")));
        assertFalse(Outcomes.definitelyFailed(PUT, Status.UNAVAILABLE.withDescription("etcdserver: no leader")));
        assertFalse(Outcomes.definitelyFailed(PUT, Status.DEADLINE_EXCEEDED));
        assertFalse(Outcomes.definitelyFailed(PUT, Status.CANCELLED));
        assertFalse(Outcomes.definitelyFailed(PUT, Status.UNKNOWN.withDescription("etcdserver: duplicate key given in txn request")));
        assertFalse(Outcomes.definitelyFailed(PUT, Status.INVALID_ARGUMENT.withDescription("something else")));
    }

    @Test
    void readsHaveNoEffectWhateverTheError() {
        assertTrue(Outcomes.definitelyFailed(RANGE, Status.DEADLINE_EXCEEDED));
        assertTrue(Outcomes.definitelyFailed(READ_ONLY_TXN, Status.UNAVAILABLE));
        assertFalse(Outcomes.definitelyFailed(WRITING_TXN, Status.UNAVAILABLE));
    }

    @Test
    void describesCodeThenDescription() {
        assertEquals("UNAVAILABLE: etcdserver: no leader",
                Outcomes.describe(Status.UNAVAILABLE.withDescription("etcdserver: no leader")));
        assertEquals("DEADLINE_EXCEEDED", Outcomes.describe(Status.DEADLINE_EXCEEDED));
    }

    @Test
    void prefixEndAsClientv3() {
        assertEquals(Keys.key("/registry/pods0"), Keys.prefixEnd(Keys.key("/registry/pods/")));
        assertEquals(Keys.key("b"), Keys.prefixEnd(Keys.key("a\u007f").substring(0, 1)));
    }
}
