package io.vigil.robustness.traffic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.WatchRecord;
import io.vigil.robustness.history.History;
import io.vigil.robustness.history.Recorder;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An informer against a real etcd 3.4: the reflector's resume and re-list. */
class InformerTest {
    @TempDir
    Path dir;

    /**
     * The informer lists pods at R and watches from R+1. Writes elsewhere move the store on without
     * an event for it; a compaction passes R+1; a restart of etcd breaks its watch. Resuming from
     * R+1 is refused as compacted, so it lists again and watches from the new list's revision + 1.
     */
    @Test
    void listsAgainWhenItsResumeRevisionWasCompacted() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start(dir)) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(etcd.endpoint()).usePlaintext().build();
            try {
                var kv = KVGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
                for (int i = 0; i < 5; i++) {
                    kv.put(PutRequest.newBuilder().setKey(Keys.key("/registry/pods/default/p" + i)).setValue(Keys.key("v" + i)).build());
                }
                Recorder recorder = new Recorder();
                Members members = new Members(() -> List.of(etcd.endpoint()));
                Informer informer = new Informer(9, new Client(3, members, recorder, 2000), "/registry/pods/", recorder,
                        new Random(1), 2);
                Thread thread = new Thread(informer, "traffic-informer-test");
                thread.start();
                await(recorder, h -> h.watches().stream().anyMatch(w -> w.hasResponse() && w.getResponse().getCreated()));
                long listed = informer.reached();
                for (int i = 0; i < 5; i++) {
                    kv.put(PutRequest.newBuilder().setKey(Keys.key("/registry/configmaps/default/c"))
                            .setValue(Keys.key("c" + i)).build());
                }
                long compactedTo = listed + 3;
                kv.compact(CompactionRequest.newBuilder().setRevision(compactedTo).build());
                etcd.kill();
                assertTrue(etcd.startAgain());
                await(recorder, h -> h.watches().stream().anyMatch(w -> w.hasCreate()
                        && w.getCreate().getStartRevision() > compactedTo + 1));

                informer.close();
                thread.join(10_000);
                members.close();
                History history = recorder.history();
                List<WatchRecord> watches = history.watches();
                assertTrue(watches.stream().anyMatch(w -> w.hasResponse() && w.getResponse().getCanceled()
                        && w.getResponse().getCompactRevision() == compactedTo), "the resumed watch was compacted");
                List<Operation> lists = history.operations();
                assertTrue(lists.stream().allMatch(o -> o.getClient() == 3 && o.getRequest().hasRange()));
                long relisted = lists.get(lists.size() - 1).getResponse().getRange().getHeader().getRevision();
                assertTrue(relisted > compactedTo, "listed again after the compaction");
                WatchRecord lastCreate = watches.stream().filter(WatchRecord::hasCreate).reduce((a, b) -> b).orElseThrow();
                assertEquals(relisted + 1, lastCreate.getCreate().getStartRevision(), "watching from the new list on");
                assertTrue(lists.stream().filter(o -> o.getRequest().getRange().getRevision() > 0).count() >= 2,
                        "5 pods in pages of 2: next pages at the first page's revision, in both lists");
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static void await(Recorder recorder, Predicate<History> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.test(recorder.history())) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(50);
        }
    }
}
