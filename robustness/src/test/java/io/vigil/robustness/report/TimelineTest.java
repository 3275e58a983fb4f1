package io.vigil.robustness.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.history.FaultRecord;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import io.vigil.robustness.history.History;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimelineTest {
    private static Operation put(int client, long call, long ret, String key, String value, long revision) {
        Operation.Builder op = Operation.newBuilder().setClient(client).setMember("127.0.0.1:2379").setCallNanos(call)
                .setReturnNanos(ret).setRequest(Request.newBuilder().setPut(PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value))));
        if (revision > 0) {
            op.setResponse(Response.newBuilder().setPut(PutResponse.newBuilder()
                    .setHeader(ResponseHeader.newBuilder().setRevision(revision))));
        } else {
            op.setError("UNAVAILABLE: <connection lost>");
        }
        return op.build();
    }

    @Test
    void drawsTheWindowWithLanesFaultsAndMarks() {
        History h = new History(List.of(
                put(1, 1_000_000_000L, 1_100_000_000L, "/a", "c1-1", 2),
                put(2, 1_050_000_000L, 0, "/a", "c2-1", 0),
                put(3, 9_000_000_000L, 9_100_000_000L, "/far", "outside", 5)),
                List.of(),
                List.of(FaultRecord.newBuilder().setStartNanos(900_000_000L).setEndNanos(1_200_000_000L)
                        .setKind("partition").addTargets("m1").build()));
        String page = Timeline.html(h, 500_000_000L, 2_000_000_000L,
                List.of(new Timeline.Mark(1_100_000_000L, "stale read by client 1")), "run 42");

        assertTrue(page.contains("client 001"));
        assertTrue(page.contains("client 002"));
        assertFalse(page.contains("client 003"), "an operation outside the window is not drawn");
        assertTrue(page.contains("put /a=c1-1 → rev 2"));
        assertTrue(page.contains("unknown: UNAVAILABLE: &lt;connection lost&gt;"), "text is escaped");
        assertTrue(page.contains("partition m1"));
        assertTrue(page.contains("1.100s: stale read by client 1"));
        assertEquals(1, page.split("stroke='red'", -1).length - 1, "one violation line");
    }
}
