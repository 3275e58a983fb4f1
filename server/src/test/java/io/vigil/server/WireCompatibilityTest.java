package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.AlarmRequest;
import io.vigil.proto.etcdserverpb.ClusterGrpc;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantResponse;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.DowngradeRequest;
import io.vigil.proto.etcdserverpb.MemberAddRequest;
import io.vigil.proto.etcdserverpb.MemberListRequest;
import io.vigil.proto.etcdserverpb.StatusRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our hand-written etcd protos against a real etcd: if a field number or type were wrong, etcd
 * would misread the request or we would misread its answer. Then the same stubs against Vigil:
 * services not built yet answer UNIMPLEMENTED rather than pretending.
 */
class WireCompatibilityTest {
    @TempDir
    Path tmp;

    @Test
    void generatedStubsTalkToRealEtcd() throws Exception {
        try (ReferenceEtcd etcd = ReferenceEtcd.start(tmp)) {
            String[] hostPort = etcd.endpoint().split(":");
            ManagedChannel ch = NettyChannelBuilder.forAddress(hostPort[0], Integer.parseInt(hostPort[1])).usePlaintext().build();
            try {
                KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(ch);
                ByteString key = ByteString.copyFromUtf8("wire/key");
                long rev = kv.put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFromUtf8("v1")).build())
                        .getHeader().getRevision();
                kv.put(PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFromUtf8("v2")).build());
                RangeResponse r = kv.range(RangeRequest.newBuilder().setKey(key).setRevision(rev).build());
                assertEquals("v1", r.getKvs(0).getValue().toStringUtf8());
                assertEquals(rev, r.getKvs(0).getModRevision());
                assertEquals(rev, r.getKvs(0).getCreateRevision());
                assertEquals(1, r.getKvs(0).getVersion());

                TxnResponse t = kv.txn(TxnRequest.newBuilder()
                        .addCompare(Compare.newBuilder().setKey(key).setTarget(Compare.CompareTarget.VERSION)
                                .setResult(Compare.CompareResult.EQUAL).setVersion(2))
                        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder()
                                .setKey(ByteString.copyFromUtf8("wire/")).setRangeEnd(ByteString.copyFromUtf8("wire0"))))
                        .build());
                assertTrue(t.getSucceeded());
                assertEquals("v2", t.getResponses(0).getResponseRange().getKvs(0).getValue().toStringUtf8());

                LeaseGrantResponse lease = LeaseGrpc.newBlockingStub(ch).leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build());
                assertTrue(lease.getID() != 0);
                assertEquals(60, lease.getTTL());
                assertTrue(LeaseGrpc.newBlockingStub(ch).leaseTimeToLive(
                        LeaseTimeToLiveRequest.newBuilder().setID(lease.getID()).build()).getGrantedTTL() == 60);

                assertFalse(MaintenanceGrpc.newBlockingStub(ch).status(StatusRequest.getDefaultInstance()).getVersion().isEmpty());
                assertEquals(1, ClusterGrpc.newBlockingStub(ch).memberList(MemberListRequest.getDefaultInstance()).getMembersCount());

                BlockingQueue<WatchResponse> seen = new LinkedBlockingQueue<>();
                StreamObserver<WatchRequest> watch = WatchGrpc.newStub(ch).watch(new StreamObserver<>() {
                    @Override
                    public void onNext(WatchResponse value) {
                        seen.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
                watch.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                        .setKey(key).setStartRevision(rev).setPrevKv(true).setWatchId(7)).build());
                WatchResponse created = seen.poll(10, TimeUnit.SECONDS);
                assertTrue(created.getCreated());
                assertEquals(7, created.getWatchId());
                WatchResponse events = seen.poll(10, TimeUnit.SECONDS);
                assertEquals(2, events.getEventsCount());
                Event second = events.getEvents(1);
                assertEquals(Event.EventType.PUT, second.getType());
                assertEquals("v1", second.getPrevKv().getValue().toStringUtf8());
                watch.onCompleted();
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @Test
    void servicesNotBuiltYetAnswerUnimplemented() throws Exception {
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            ManagedChannel ch = CrashRecoveryTest.channel(vigil);
            try {
                // built now: a member add without peer URLs gets etcd's refusal
                StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                        () -> ClusterGrpc.newBlockingStub(ch).memberAdd(MemberAddRequest.getDefaultInstance()));
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
                assertEquals("etcdserver: given member URLs are invalid", e.getStatus().getDescription());
                // built now: an alarm list of a healthy member is empty
                assertEquals(0, MaintenanceGrpc.newBlockingStub(ch).alarm(AlarmRequest.newBuilder()
                        .setAction(AlarmRequest.AlarmAction.GET).build()).getAlarmsCount());
                e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                        () -> MaintenanceGrpc.newBlockingStub(ch).downgrade(DowngradeRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
