package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Through jetcd, a real etcd Java client: keys and values of any bytes, empty values, requests up
 * to etcd's 1.5 MiB default limit; larger ones refused with etcd's error while the server keeps
 * serving and keeps what it had. As in etcd, the limit holds for every request that becomes a log
 * entry, not only key-value writes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestLimitsTest {
    private static final int LIMIT_BYTES = ServerConfig.MAX_REQUEST_BYTES_DEFAULT;

    private VigilProcess vigil;
    private Client client;
    private KV kv;

    @BeforeAll
    void start(@TempDir Path tmp) {
        vigil = VigilProcess.start(tmp.resolve("data"));
        client = Client.builder().endpoints("http://" + vigil.endpoint()).build();
        kv = client.getKVClient();
    }

    @AfterAll
    void stop() throws Exception {
        client.close();
        vigil.close();
    }

    @Test
    void everyByteWorksInKeysAndValues() throws Exception {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        ByteSequence key = ByteSequence.from(all);
        ByteSequence value = ByteSequence.from(reversed(all));
        kv.put(key, value).get();
        GetResponse got = kv.get(key).get();
        assertEquals(1, got.getKvs().size());
        assertArrayEquals(reversed(all), got.getKvs().get(0).getValue().getBytes());

        // a prefix scan over binary keys: 0xff bytes at the end have no "next" prefix but the end
        ByteSequence prefix = ByteSequence.from(new byte[] {(byte) 0xff, (byte) 0xff});
        kv.put(ByteSequence.from(new byte[] {(byte) 0xff, (byte) 0xff, 0}), ByteSequence.EMPTY).get();
        kv.put(ByteSequence.from(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}), ByteSequence.EMPTY).get();
        GetResponse scan = kv.get(prefix, GetOption.builder().isPrefix(true).build()).get();
        assertEquals(2, scan.getCount());
        assertEquals(0, scan.getKvs().get(0).getValue().size(), "empty values stay empty");
    }

    @Test
    void requestsUpToTheLimitAreServedAndLargerOnesRefused() throws Exception {
        ByteSequence key = ByteSequence.from(new byte[] {'b', 'i', 'g'});
        byte[] nearLimit = new byte[LIMIT_BYTES - 1024];
        nearLimit[nearLimit.length - 1] = 7;
        kv.put(key, ByteSequence.from(nearLimit)).get();
        assertArrayEquals(nearLimit, kv.get(key).get().getKvs().get(0).getValue().getBytes());

        ExecutionException tooLarge = assertThrows(ExecutionException.class,
                () -> kv.put(key, ByteSequence.from(new byte[LIMIT_BYTES + 1024])).get());
        assertTrue(String.valueOf(tooLarge.getCause().getMessage()).contains("etcdserver: request is too large"),
                tooLarge.getCause().toString());

        // far beyond the limit gRPC itself refuses the message; the server goes on either way
        assertThrows(ExecutionException.class,
                () -> kv.put(key, ByteSequence.from(new byte[4 * LIMIT_BYTES])).get());

        assertTrue(vigil.isAlive());
        assertArrayEquals(nearLimit, kv.get(key).get().getKvs().get(0).getValue().getBytes(),
                "the refused writes changed nothing");
        ByteSequence after = ByteSequence.from(new byte[] {'o', 'k'});
        kv.put(after, after).get();
        assertEquals(1, kv.get(after).get().getCount());
    }

    @Test
    void authRequestsAreHeldToTheSameLimit() throws Exception {
        Auth auth = client.getAuthClient();
        byte[] longName = new byte[LIMIT_BYTES + 1024];
        Arrays.fill(longName, (byte) 'u');
        ByteSequence name = ByteSequence.from(longName);
        ByteSequence password = ByteSequence.from("pw", StandardCharsets.UTF_8);

        ExecutionException user = assertThrows(ExecutionException.class,
                () -> auth.userAdd(name, password).get());
        assertTrue(String.valueOf(user.getCause().getMessage()).contains("etcdserver: request is too large"),
                user.getCause().toString());
        ExecutionException role = assertThrows(ExecutionException.class,
                () -> auth.roleAdd(name).get());
        assertTrue(String.valueOf(role.getCause().getMessage()).contains("etcdserver: request is too large"),
                role.getCause().toString());

        assertTrue(vigil.isAlive());
        assertEquals(0, auth.userList().get().getUsers().size(), "the refused user was not added");
        assertEquals(0, auth.roleList().get().getRoles().size(), "the refused role was not added");
        ByteSequence small = ByteSequence.from("small", StandardCharsets.UTF_8);
        auth.roleAdd(small).get();
        assertEquals(1, auth.roleList().get().getRoles().size());
        auth.roleDelete(small).get();
    }

    private static byte[] reversed(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = b[b.length - 1 - i];
        }
        return r;
    }

    /**
     * A txn in a txn in a txn..., around the deepest a request may nest (protobuf's limit of 100
     * messages where grpc-java decodes it): what is accepted is applied, what is too deep is
     * refused; either way the member goes on. A request accepted at the limit once became an
     * entry the apply could not decode, which stopped the member, and every restart with it.
     */
    @Test
    void txnsNestedToTheDecodingLimitAreAppliedAndDeeperOnesRefused() throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forTarget(vigil.endpoint()).usePlaintext().build();
        // the answer nests a level deeper than the request (the inner responses' headers, as
        // etcd's): taken as bytes and read past grpc-java's limit of 100, as a Go client would
        MethodDescriptor<TxnRequest, byte[]> txn = KVGrpc.getTxnMethod().toBuilder(
                KVGrpc.getTxnMethod().getRequestMarshaller(), WireFuzzTest.BYTES).build();
        try {
            int applied = 0;
            int refused = 0;
            for (int depth = 40; depth <= 60; depth++) {
                ByteString key = ByteString.copyFromUtf8("deep/" + depth);
                TxnRequest t = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder()
                        .setRequestPut(PutRequest.newBuilder().setKey(key).setValue(key))).build();
                for (int i = 0; i < depth; i++) {
                    t = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestTxn(t)).build();
                }
                try {
                    CodedInputStream answer = CodedInputStream.newInstance(
                            ClientCalls.blockingUnaryCall(channel, txn, CallOptions.DEFAULT, t));
                    answer.setRecursionLimit(1000);
                    assertTrue(TxnResponse.parseFrom(answer).getSucceeded());
                    applied++;
                    assertEquals(1, kv.get(ByteSequence.from(key.toByteArray())).get().getCount(), "depth " + depth);
                } catch (StatusRuntimeException tooDeep) {
                    assertEquals(Status.Code.INTERNAL, tooDeep.getStatus().getCode(), "depth " + depth + ": " + tooDeep);
                    assertTrue(tooDeep.getStatus().getDescription().startsWith("grpc: error unmarshalling request"),
                            "depth " + depth + ": " + tooDeep);
                    refused++;
                }
                assertTrue(vigil.isAlive(), "the member stopped at depth " + depth);
            }
            assertTrue(applied > 0 && refused > 0, applied + " applied, " + refused + " refused: the limit is not within 40..60");
        } finally {
            channel.shutdownNow();
        }
    }
}
