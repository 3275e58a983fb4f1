package io.vigil.server;

import static io.vigil.server.CrashRecoveryTest.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.vigil.proto.etcdserverpb.LeaseLeasesRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.TxnRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What etcdctl cannot send, sent over gRPC to a real etcd 3.4 and to Vigil alike: client-chosen
 * lease IDs (also taken, zero-TTL, negative), txn compares on LEASE, unknown leases inside txns,
 * and keep-alive over one stream for known, unknown and revoked leases. Every response or error
 * status must be the same, header ids and raft term aside. TTLs are long, so timing cannot differ.
 */
class LeaseGrpcDifferentialTest {
    @TempDir
    Path tmp;

    @Test
    void leaseCallsMatchRealEtcd() throws Exception {
        BothServers.Results<List<String>> results = BothServers.run(tmp, LeaseGrpcDifferentialTest::session);
        List<String> expected = results.etcd();
        List<String> actual = results.vigil();
        // the reference's answers, for the record (and for a reader of the test report)
        expected.forEach(System.out::println);
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
            String e = i < expected.size() ? expected.get(i) : "(nothing)";
            String a = i < actual.size() ? actual.get(i) : "(nothing)";
            if (!e.equals(a)) {
                mismatches.add("call " + i + "\n--- etcd:\n" + e + "\n--- vigil:\n" + a);
            }
        }
        assertEquals("", String.join("\n\n", mismatches));
    }

    private static List<String> session(String endpoint) throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
        List<String> out = new ArrayList<>();
        try {
            LeaseGrpc.LeaseBlockingStub lease = LeaseGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            out.add(call("grant id 42", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(42).setTTL(1000).build())));
            out.add(call("grant id 42 again", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(42).setTTL(500).build())));
            out.add(call("grant id 48", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(48).setTTL(2000).build())));
            out.add(call("grant id -45", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(-45).setTTL(1000).build())));
            out.add(call("grant id 46 ttl too large", () -> lease.leaseGrant(
                    LeaseGrantRequest.newBuilder().setID(46).setTTL(9_000_000_001L).build())));
            out.add(call("grant id 47 ttl max", () -> lease.leaseGrant(
                    LeaseGrantRequest.newBuilder().setID(47).setTTL(9_000_000_000L).build())));
            out.add(call("leases", () -> lease.leaseLeases(LeaseLeasesRequest.getDefaultInstance())));
            out.add(call("put a lease 42", () -> kv.put(put("a", 42).build())));
            out.add(call("put b lease -45", () -> kv.put(put("b", -45).build())));
            out.add(call("put c lease 99", () -> kv.put(put("c", 99).build())));
            out.add(call("put c lease 99 ignore_value", () -> kv.put(put("c", 99).setValue(bytes("")).setIgnoreValue(true).build())));
            out.add(call("timetolive 42 keys", () -> lease.leaseTimeToLive(
                    LeaseTimeToLiveRequest.newBuilder().setID(42).setKeys(true).build()).toBuilder().setTTL(0).build()));
            out.add(call("timetolive 99", () -> lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(99).build())));
            out.add(call("timetolive 0", () -> lease.leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(0).build())));
            out.add(call("txn lease(a) = 42", () -> kv.txn(TxnRequest.newBuilder()
                    .addCompare(leaseIs("a", Compare.CompareResult.EQUAL, 42))
                    .addSuccess(RequestOp.newBuilder().setRequestPut(put("d", 42)))
                    .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(bytes("a"))))
                    .build())));
            out.add(call("txn lease(b) > 0", () -> kv.txn(TxnRequest.newBuilder()
                    .addCompare(leaseIs("b", Compare.CompareResult.GREATER, 0))
                    .addSuccess(RequestOp.newBuilder().setRequestPut(put("e", 0)))
                    .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(bytes("b"))))
                    .build())));
            out.add(call("txn lease(missing) = 0", () -> kv.txn(TxnRequest.newBuilder()
                    .addCompare(leaseIs("missing", Compare.CompareResult.EQUAL, 0))
                    .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(bytes("a"))))
                    .build())));
            out.add(call("txn lease(a..z) != 0 over a range", () -> kv.txn(TxnRequest.newBuilder()
                    .addCompare(leaseIs("a", Compare.CompareResult.NOT_EQUAL, 0).toBuilder().setRangeEnd(bytes("z")))
                    .addSuccess(RequestOp.newBuilder().setRequestPut(put("f", 0)))
                    .build())));
            out.add(call("txn put with unknown lease", () -> kv.txn(TxnRequest.newBuilder()
                    .addSuccess(RequestOp.newBuilder().setRequestPut(put("g", 99)))
                    .build())));
            // inside a txn the key is checked before the lease
            out.add(call("txn ignore_value missing key with unknown lease", () -> kv.txn(TxnRequest.newBuilder()
                    .addSuccess(RequestOp.newBuilder().setRequestPut(put("nokey", 99).setValue(bytes("")).setIgnoreValue(true)))
                    .build())));
            out.add(call("txn unknown lease on the branch not taken", () -> kv.txn(TxnRequest.newBuilder()
                    .addCompare(leaseIs("a", Compare.CompareResult.EQUAL, 42))
                    .addSuccess(RequestOp.newBuilder().setRequestPut(put("h", 42)))
                    .addFailure(RequestOp.newBuilder().setRequestPut(put("h", 99)))
                    .build())));
            out.add(call("timetolive 42 keys after txns", () -> lease.leaseTimeToLive(
                    LeaseTimeToLiveRequest.newBuilder().setID(42).setKeys(true).build()).toBuilder().setTTL(0).build()));
            out.addAll(keepAlives(channel, 42, 99, -45, 0, 42));
            out.add(call("revoke 42", () -> lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(42).build())));
            out.add(call("range all", () -> kv.range(RangeRequest.newBuilder().setKey(bytes("\0")).setRangeEnd(bytes("\0")).build())));
            out.add(call("revoke 42 again", () -> lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(42).build())));
            out.add(call("revoke 0", () -> lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(0).build())));
            out.add(call("revoke 48 (no keys)", () -> lease.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(48).build())));
            out.addAll(keepAlives(channel, 42, -45));
            out.add(call("regrant 42 after revoke", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(42).setTTL(300).build())));
            out.add(call("leases", () -> lease.leaseLeases(LeaseLeasesRequest.getDefaultInstance())));
            // last: these get the minimum TTL and would expire during the calls above
            out.add(call("grant id 43 ttl 0", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(43).setTTL(0).build())));
            out.add(call("grant id 44 ttl -7", () -> lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(44).setTTL(-7).build())));
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(10, TimeUnit.SECONDS);
        }
        return out;
    }

    /** Keep-alives for each id, in order, over one stream. */
    private static List<String> keepAlives(ManagedChannel channel, long... ids) throws InterruptedException {
        CollectingObserver<LeaseKeepAliveResponse> responses = new CollectingObserver<>();
        LinkedBlockingQueue<Object> received = responses.received;
        StreamObserver<LeaseKeepAliveRequest> requests = LeaseGrpc.newStub(channel).leaseKeepAlive(responses);
        for (long id : ids) {
            requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
        }
        requests.onCompleted();
        List<String> out = new ArrayList<>();
        for (int i = 0; i <= ids.length; i++) {
            Object r = received.poll(30, TimeUnit.SECONDS);
            out.add("keep-alive #" + i + ": " + (r instanceof Message m ? show(m) : String.valueOf(r)));
        }
        return out;
    }

    private static String call(String what, Supplier<Message> rpc) {
        try {
            return what + ": " + show(rpc.get());
        } catch (StatusRuntimeException e) {
            return what + ": " + e.getStatus().getCode() + " " + e.getStatus().getDescription();
        }
    }

    /** The message with the header's ids and raft term blanked, a lease's keys sorted (etcd: map order). */
    private static String show(Message m) {
        if (m instanceof LeaseTimeToLiveResponse t) {
            List<ByteString> keys = new ArrayList<>(t.getKeysList());
            keys.sort(ByteString.unsignedLexicographicalComparator());
            m = t.toBuilder().clearKeys().addAllKeys(keys).build();
        }
        Message.Builder b = m.toBuilder();
        var header = m.getDescriptorForType().findFieldByName("header");
        if (header != null && m.hasField(header)) {
            ResponseHeader h = (ResponseHeader) m.getField(header);
            b.setField(header, h.toBuilder().clearClusterId().clearMemberId().clearRaftTerm().build());
        }
        return TextFormat.printer().shortDebugString(b.build());
    }

    private static PutRequest.Builder put(String key, long lease) {
        return PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes("v")).setLease(lease);
    }

    private static Compare leaseIs(String key, Compare.CompareResult result, long lease) {
        return Compare.newBuilder().setKey(bytes(key)).setTarget(Compare.CompareTarget.LEASE).setResult(result)
                .setLease(lease).build();
    }
}
