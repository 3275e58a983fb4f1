package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.vigil.proto.etcdserverpb.Member;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.mvccpb.KeyValue;
import org.junit.jupiter.api.Test;

/**
 * The gateway's JSON as golang protobuf's jsonpb writes it with etcd's settings (OrigName, no
 * defaults): what a differential test cannot reach with ordinary keys, such as strings that Gson
 * and Go escape differently.
 */
class GatewayJsonTest {
    @Test
    void printsAsJsonpbWithEtcdsSettings() {
        RangeResponse r = RangeResponse.newBuilder()
                .setHeader(ResponseHeader.newBuilder().setClusterId(-1).setMemberId(2).setRevision(3).setRaftTerm(4))
                .addKvs(KeyValue.newBuilder().setKey(ByteString.copyFromUtf8("foo")).setCreateRevision(2).setModRevision(3)
                        .setVersion(2).setValue(ByteString.copyFromUtf8("bar")))
                .setCount(1).build();
        assertEquals("{\"header\":{\"cluster_id\":\"18446744073709551615\",\"member_id\":\"2\",\"revision\":\"3\","
                + "\"raft_term\":\"4\"},\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"3\","
                + "\"version\":\"2\",\"value\":\"YmFy\"}],\"count\":\"1\"}", GatewayJson.print(r));
        assertEquals("{}", GatewayJson.print(PutRequest.getDefaultInstance()));
    }

    @Test
    void escapesStringsAsGo() {
        Member m = Member.newBuilder().setName("a<b>&c='d'\b\f\u2028\\u003d\"").build();
        assertEquals("{\"name\":\"a\\u003cb\\u003e\\u0026c='d'\\u0008\\u000c\\u2028\\\\u003d\\\"\"}", GatewayJson.print(m));
        assertEquals("\"a\\u003cb\\u003e\\u0026c='d'\\u0008\\u000c\\u2028\\\\u003d\\\"\"", GatewayJson.quote("a<b>&c='d'\b\f\u2028\\u003d\""));
    }

    @Test
    void errorsAsGrpcGatewayV1() {
        Status s = Status.INVALID_ARGUMENT.withDescription("etcdserver: key is not provided");
        assertEquals("{\"error\":\"etcdserver: key is not provided\",\"message\":\"etcdserver: key is not provided\",\"code\":3}",
                GatewayJson.errorBody(s));
        assertEquals("{\"error\":{\"grpc_code\":3,\"http_code\":400,\"message\":\"etcdserver: key is not provided\","
                + "\"http_status\":\"Bad Request\"}}", GatewayJson.streamError(s));
        assertEquals(412, GatewayJson.httpStatus(Status.Code.FAILED_PRECONDITION));
    }

    @Test
    void parsesEitherNameAndIgnoresUnknownFields() throws Exception {
        PutRequest p = (PutRequest) GatewayJson.parse(JsonParser.parseString("{\"key\":\"Zm9v\",\"prevKv\":true,\"lease\":7}"),
                PutRequest.getDefaultInstance());
        assertEquals(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("foo")).setPrevKv(true).setLease(7).build(), p);
        assertEquals(PutRequest.getDefaultInstance(), GatewayJson.parse(JsonParser.parseString("{\"nonsense\":1}"),
                PutRequest.getDefaultInstance()), "unknown fields are ignored, as etcd's gateway ignores them");
        assertThrows(InvalidProtocolBufferException.class, () -> GatewayJson.parse(JsonParser.parseString("{\"key\":5.5}"),
                PutRequest.getDefaultInstance()));
        assertEquals(3, GatewayJson.values("{\"a\":1} {\"b\":2}\n{}").size());
        assertEquals(0, GatewayJson.values("  ").size());
    }
}
