package io.vigil.server;

import static io.vigil.server.ClusterClients.PATIENCE;
import static io.vigil.server.ClusterClients.awaitLeader;
import static io.vigil.server.ClusterClients.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.HashKVRequest;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.mvccpb.KeyValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup and restore as an operator does them: {@code etcdctl snapshot save} from a member under
 * write load, then {@code vigil snapshot restore} into a fresh member and into a fresh 3-member
 * cluster. Every key of the snapshot's revision comes back at that revision (create and mod
 * revisions, versions, values, leases), and the restored cluster serves and replicates writes,
 * its members' HashKV agreeing.
 */
class BackupRestoreTest {
    private static final long LEASE = 77;
    private static final Pattern REVISION = Pattern.compile("\"revision\":(\\d+)");

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

    private static RangeRequest everything(long revision) {
        return RangeRequest.newBuilder().setKey(ByteString.copyFrom(new byte[] {0})).setRangeEnd(ByteString.copyFrom(new byte[] {0}))
                .setRevision(revision).setSerializable(true).build();
    }

    @Test
    void aBackupTakenUnderWritesRestoresIntoAFreshMemberAndAFreshCluster() throws Exception {
        Path backup = tmp.resolve("backup.db");
        long revision;
        List<KeyValue> expected;
        try (VigilProcess source = VigilProcess.start(tmp.resolve("source"))) {
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(source.endpoint()));
            LeaseGrpc.newBlockingStub(clients.channel(source.endpoint()))
                    .leaseGrant(LeaseGrantRequest.newBuilder().setID(LEASE).setTTL(3600).build());
            kv.put(put("leased", "v").toBuilder().setLease(LEASE).build());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger puts = new AtomicInteger();
            Thread writer = new Thread(() -> {
                for (int i = 0; !stop.get(); i++) {
                    kv.put(put("key-" + (i % 200), "value-" + i));
                    puts.incrementAndGet();
                }
            });
            writer.start();
            await().atMost(PATIENCE).until(() -> puts.get() >= 300);
            Etcdctl.Result saved = Etcdctl.run(source.endpoint(), null, "snapshot", "save", backup.toString());
            assertEquals(0, saved.exitCode(), saved.stderr());
            int afterSave = puts.get();
            await().atMost(PATIENCE).until(() -> puts.get() >= afterSave + 100);
            stop.set(true);
            writer.join();

            Etcdctl.Result status = VigilProcess.command("snapshot", "status", backup.toString(), "-w", "json");
            assertEquals(0, status.exitCode(), status.stderr());
            Matcher m = REVISION.matcher(status.stdout());
            assertTrue(m.find(), status.stdout());
            revision = Long.parseLong(m.group(1));
            long head = kv.range(everything(0)).getHeader().getRevision();
            assertTrue(revision > 300 && revision < head, "taken while writes went on: at " + revision + " of " + head);
            expected = kv.range(everything(revision)).getKvsList();
        }

        Path single = tmp.resolve("restored");
        Etcdctl.Result restored = VigilProcess.command("snapshot", "restore", backup.toString(), "--data-dir", single.toString());
        assertEquals(0, restored.exitCode(), restored.stderr());
        try (VigilProcess member = VigilProcess.start(single)) {
            KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(member.endpoint()));
            RangeResponse all = kv.range(everything(0));
            assertEquals(revision, all.getHeader().getRevision());
            assertEquals(expected, all.getKvsList());
            LeaseTimeToLiveResponse lease = LeaseGrpc.newBlockingStub(clients.channel(member.endpoint()))
                    .leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(LEASE).setKeys(true).build());
            assertEquals(List.of(ByteString.copyFromUtf8("leased")), lease.getKeysList(), "the lease and its key came back");
            assertEquals(revision + 1, kv.put(put("after", "restore")).getHeader().getRevision());
        }

        try (VigilCluster c = VigilCluster.unstarted(tmp.resolve("cluster"), 3)) {
            for (int i = 0; i < 3; i++) {
                Etcdctl.Result r = VigilProcess.command("snapshot", "restore", backup.toString(),
                        "--data-dir", c.dataDir(i).toString(), "--name", VigilCluster.name(i),
                        "--initial-cluster", c.initialCluster(), "--initial-advertise-peer-urls", c.peerUrl(i));
                assertEquals(0, r.exitCode(), r.stderr());
            }
            for (int i = 0; i < 3; i++) {
                c.startMember(i);
            }
            awaitLeader(c);
            KVGrpc.newBlockingStub(clients.channel(c.endpoint(1))).put(put("after", "cluster restore"));
            java.util.Set<Long> hashes = new java.util.HashSet<>();
            for (int i = 0; i < 3; i++) {
                KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(clients.channel(c.endpoint(i)));
                await().atMost(PATIENCE).until(() -> kv.range(everything(0)).getHeader().getRevision() == revision + 1);
                assertEquals(expected, kv.range(everything(revision)).getKvsList(), "member " + i + "\n" + c.logs());
                hashes.add((long) MaintenanceGrpc.newBlockingStub(clients.channel(c.endpoint(i)))
                        .hashKV(HashKVRequest.newBuilder().setRevision(revision + 1).build()).getHash());
            }
            assertEquals(1, hashes.size(), "the members' HashKV agree: " + hashes);
        }
    }

    @Test
    void damagedTruncatedAndForeignFilesAreRefusedNamingTheProblem() throws Exception {
        Path backup = tmp.resolve("backup.db");
        try (VigilProcess source = VigilProcess.start(tmp.resolve("source"))) {
            for (int i = 0; i < 20; i++) {
                assertEquals(0, Etcdctl.run(source.endpoint(), null, "put", "k" + i, "v" + i).exitCode());
            }
            assertEquals(0, Etcdctl.run(source.endpoint(), null, "snapshot", "save", backup.toString()).exitCode());
        }
        Etcdctl.Result status = VigilProcess.command("snapshot", "status", backup.toString());
        assertTrue(status.stdout().matches("[0-9a-f]+, 21, 20, \\d+ kB\\n"), status.stdout());

        Path truncated = tmp.resolve("truncated.db");
        byte[] whole = Files.readAllBytes(backup);
        Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length - 1000));
        assertRefused(truncated, "has no SHA-256 digest at its end");
        Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length - 4096));
        assertRefused(truncated, "is damaged or truncated: its data has SHA-256");

        Path damaged = tmp.resolve("damaged.db");
        byte[] flipped = whole.clone();
        flipped[5000] ^= 1;
        Files.write(damaged, flipped);
        assertRefused(damaged, "is damaged or truncated: its data has SHA-256");

        Path etcdBackup = tmp.resolve("etcd.db");
        try (ReferenceEtcd etcd = ReferenceEtcd.start(tmp)) {
            Etcdctl.run(etcd.endpoint(), null, "put", "k", "v");
            assertEquals(0, Etcdctl.run(etcd.endpoint(), null, "snapshot", "save", etcdBackup.toString()).exitCode());
        }
        assertRefused(etcdBackup, "is not a Vigil store");

        Path used = tmp.resolve("used");
        Files.createDirectories(used);
        Files.writeString(used.resolve("something"), "x", StandardOpenOption.CREATE);
        Etcdctl.Result r = VigilProcess.command("snapshot", "restore", backup.toString(), "--data-dir", used.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().contains("data-dir \"" + used + "\" exists"), r.stderr());
    }

    private void assertRefused(Path file, String problem) {
        Path dataDir = tmp.resolve("restore-" + file.getFileName());
        Etcdctl.Result r = VigilProcess.command("snapshot", "restore", file.toString(), "--data-dir", dataDir.toString());
        assertEquals(1, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains(problem), r.stderr());
        assertTrue(Files.notExists(dataDir), "nothing is left behind");
        Etcdctl.Result s = VigilProcess.command("snapshot", "status", file.toString());
        assertTrue(s.stderr().contains(problem), s.stderr());
    }
}
