package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.mvccpb.KeyValue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL during a stream of acknowledged writes, then restart on the same data dir, which
 * applies again from the WAL the writes the store had not committed: every acknowledged write is
 * there with the revision it was acknowledged at, the revision goes on from where it was, and
 * every two-key txn is either wholly there or wholly absent. The kill moment is drawn from a seed
 * that is printed; replay with -Dvigil.crash.seed=N.
 */
class CrashRecoveryTest {
    private static final int CYCLES = 3;
    private static final int WRITERS = 4;
    private static final Pattern REPLAYED = Pattern.compile("\\((\\d+) entries applied again from the WAL\\)");

    @TempDir
    Path tmp;

    private record Acked(String key, String value, long revision) {
    }

    @Test
    void acknowledgedWritesSurviveSigkill() throws Exception {
        long seed = Long.getLong("vigil.crash.seed", System.nanoTime());
        System.out.println("CrashRecoveryTest seed " + seed + " (replay: -Dvigil.crash.seed=" + seed + ")");
        Random rnd = new Random(seed);
        Path dataDir = tmp.resolve("data");
        ConcurrentLinkedQueue<Acked> acked = new ConcurrentLinkedQueue<>();
        AtomicInteger txnsTried = new AtomicInteger();
        long replayed = 0;
        try {
            for (int cycle = 0; cycle <= CYCLES; cycle++) {
                VigilProcess vigil = VigilProcess.start(dataDir);
                ManagedChannel channel = channel(vigil);
                try {
                    KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);
                    verifyAfterRestart(kv, acked, txnsTried.get());
                    replayed += replayedEntries(vigil);
                    if (cycle < CYCLES) {
                        runWritersThenKill(vigil, channel, cycle, 50 + rnd.nextInt(400), acked, txnsTried);
                    }
                } finally {
                    channel.shutdownNow();
                    vigil.kill();
                }
            }
        } catch (Throwable t) {
            throw new AssertionError("crash test failed with seed " + seed, t);
        }
        assertTrue(acked.size() >= 50 * CYCLES, "writes were acknowledged: " + acked.size());
        // writers were mid-stream at every kill, and the store commits only every 100 ms
        assertTrue(replayed > 0, "no restart had acknowledged writes to take from the WAL");
    }

    private static long replayedEntries(VigilProcess vigil) {
        for (String line : vigil.output()) {
            Matcher m = REPLAYED.matcher(line);
            if (m.find()) {
                return Long.parseLong(m.group(1));
            }
        }
        throw new AssertionError("no replay count in " + vigil.output());
    }

    private void runWritersThenKill(VigilProcess vigil, ManagedChannel channel, int cycle, int killAfter,
                                    ConcurrentLinkedQueue<Acked> acked, AtomicInteger txnsTried) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger ackedThisCycle = new AtomicInteger();
        CountDownLatch enough = new CountDownLatch(1);
        Thread[] writers = new Thread[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            writers[w] = new Thread(() -> {
                KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(channel);
                for (int i = 0; !stop.get() && i < 100_000; i++) {
                    try {
                        if (i % 5 == 4) {
                            int t = txnsTried.getAndIncrement();
                            TxnResponse r = kv.withDeadlineAfter(10, TimeUnit.SECONDS).txn(TxnRequest.newBuilder()
                                    .addSuccess(put("txn-a-" + t, "a" + t))
                                    .addSuccess(put("txn-b-" + t, "b" + t))
                                    .build());
                            long rev = r.getHeader().getRevision();
                            acked.add(new Acked("txn-a-" + t, "a" + t, rev));
                            acked.add(new Acked("txn-b-" + t, "b" + t, rev));
                        } else {
                            String key = "c" + cycle + "-w" + writer + "-" + i;
                            long rev = kv.withDeadlineAfter(10, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                                    .setKey(bytes(key)).setValue(bytes("v" + i)).build()).getHeader().getRevision();
                            acked.add(new Acked(key, "v" + i, rev));
                        }
                        if (ackedThisCycle.incrementAndGet() >= killAfter) {
                            enough.countDown();
                        }
                    } catch (StatusRuntimeException killed) {
                        return;
                    }
                }
            }, "crash-writer-" + w);
            writers[w].start();
        }
        assertTrue(enough.await(60, TimeUnit.SECONDS), "writes were too few before the kill");
        vigil.kill();
        stop.set(true);
        for (Thread t : writers) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    /**
     * Unacknowledged writes may or may not have landed, so the last acknowledged revision is a
     * floor for the head; the next write must take the revision right after the head.
     */
    private static void verifyAfterRestart(KVGrpc.KVBlockingStub kv, ConcurrentLinkedQueue<Acked> acked, int txnsTried) {
        long head = kv.range(RangeRequest.newBuilder().setKey(bytes("probe")).build()).getHeader().getRevision();
        long lastAcked = acked.stream().mapToLong(Acked::revision).max().orElse(1);
        assertTrue(head >= lastAcked, "head " + head + " is behind the last acknowledged revision " + lastAcked);
        for (Acked a : acked) {
            RangeResponse r = kv.range(RangeRequest.newBuilder().setKey(bytes(a.key())).build());
            assertEquals(1, r.getKvsCount(), "acknowledged write of " + a.key() + " at " + a.revision() + " is lost");
            KeyValue got = r.getKvs(0);
            assertEquals(a.value(), got.getValue().toStringUtf8());
            assertEquals(a.revision(), got.getModRevision());
        }
        for (int t = 0; t < txnsTried; t++) {
            long a = kv.range(RangeRequest.newBuilder().setKey(bytes("txn-a-" + t)).build()).getCount();
            long b = kv.range(RangeRequest.newBuilder().setKey(bytes("txn-b-" + t)).build()).getCount();
            assertEquals(a, b, "txn " + t + " is partially visible");
        }
        long next = kv.put(PutRequest.newBuilder().setKey(bytes("probe")).setValue(bytes("after-restart")).build())
                .getHeader().getRevision();
        assertEquals(head + 1, next, "the revision goes on from where it was");
    }

    private static RequestOp put(String key, String value) {
        return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value))).build();
    }

    static ManagedChannel channel(VigilProcess vigil) {
        return NettyChannelBuilder.forAddress(vigil.host(), vigil.port()).usePlaintext().build();
    }

    static ByteString bytes(String s) {
        return ByteString.copyFrom(s, StandardCharsets.UTF_8);
    }

}
