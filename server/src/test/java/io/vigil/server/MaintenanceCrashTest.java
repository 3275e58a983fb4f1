package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL in the middle of the two operations that replace a store's data file: an online
 * defragmentation (killed while its compacted copy is being written) and a
 * {@code vigil snapshot restore} (killed while it writes the new data directory). Nothing is lost:
 * the member restarts with every key at its revision, and the restore, run again, completes.
 */
class MaintenanceCrashTest {
    private static final int KEYS = 3000;
    private static final ByteString VALUE = ByteString.copyFrom(new byte[16 * 1024]);

    @TempDir
    Path tmp;

    private final ClusterClients clients = new ClusterClients();

    @BeforeAll
    static void needsEtcdctl() {
        ReferenceEtcd.assumeInstalled();
    }

    @AfterEach
    void closeChannels() {
        clients.close();
    }

    private static RangeRequest everything() {
        return RangeRequest.newBuilder().setKey(ByteString.copyFrom(new byte[] {0})).setRangeEnd(ByteString.copyFrom(new byte[] {0}))
                .setKeysOnly(true).build();
    }

    /** Polls until {@code file} exists, for as long as {@code running} runs; whether it was seen. */
    private static boolean seen(Path file, CompletableFuture<?> running) throws InterruptedException {
        while (!running.isDone()) {
            if (Files.exists(file)) {
                return true;
            }
            Thread.onSpinWait();
        }
        return Files.exists(file);
    }

    @Test
    void aKillDuringDefragmentationOrRestoreLosesNothing() throws Exception {
        Path data = tmp.resolve("member");
        RangeResponse before;
        try (VigilProcess member = VigilProcess.start(data)) {
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(member.endpoint()));
            for (int i = 0; i < KEYS; i++) {
                kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("key-" + i)).setValue(VALUE).build());
            }
            before = kv.range(everything());
            assertEquals(KEYS, before.getCount());

            CompletableFuture<Etcdctl.Result> defrag = CompletableFuture.supplyAsync(() -> Etcdctl.run(member.endpoint(), null, "defrag"));
            boolean during = seen(data.resolve("defrag.tmp").resolve("data.mdb"), defrag);
            member.kill();
            assertTrue(during, "the defragmentation's copy was not seen being written: " + defrag.get());
        }
        Path backup = tmp.resolve("backup.db");
        try (VigilProcess member = VigilProcess.start(data)) {
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(member.endpoint()));
            assertEquals(before.getKvsList(), kv.range(everything()).getKvsList());
            assertEquals(before.getHeader().getRevision(), kv.range(everything()).getHeader().getRevision());
            assertTrue(Files.notExists(data.resolve("defrag.tmp")), "the interrupted copy is removed at start");
            assertEquals(0, Etcdctl.run(member.endpoint(), null, "defrag").exitCode(), "and defragmentation works again");
            assertEquals(before.getKvsList(), kv.range(everything()).getKvsList());
            assertEquals(0, Etcdctl.run(member.endpoint(), null, "snapshot", "save", backup.toString()).exitCode());
        }

        Path restored = tmp.resolve("restored");
        Process restore = VigilProcess.commandLine("snapshot", "restore", backup.toString(), "--data-dir", restored.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("restore.log").toFile()).start();
        boolean during = seen(tmp.resolve("restored.restoring").resolve("data.mdb"), restore.onExit());
        restore.destroyForcibly();
        restore.waitFor(30, TimeUnit.SECONDS);
        assertTrue(during, "the restore was not seen writing: " + Files.readString(tmp.resolve("restore.log")));
        assertTrue(Files.notExists(restored), "an interrupted restore leaves no data directory");

        Etcdctl.Result again = VigilProcess.command("snapshot", "restore", backup.toString(), "--data-dir", restored.toString());
        assertEquals(0, again.exitCode(), again.stderr());
        try (VigilProcess member = VigilProcess.start(restored)) {
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(member.endpoint()));
            assertEquals(before.getKvsList(), kv.range(everything()).getKvsList());
        }
    }
}
