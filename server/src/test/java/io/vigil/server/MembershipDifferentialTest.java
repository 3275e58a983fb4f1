package io.vigil.server;

import static io.vigil.server.ClusterClients.PATIENCE;
import static io.vigil.server.ClusterClients.awaitLeader;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcdctl's member commands against a three-member Vigil and a three-member etcd 3.4 started the
 * same way (members m1..m3 on loopback): the same answers, errors included, once ids and ports are
 * masked (they are derived from the ports).
 */
class MembershipDifferentialTest {
    @TempDir
    Path dir;

    @Test
    void memberCommandsAnswerAsEtcds() throws Exception {
        ReferenceEtcd.assumeInstalled();
        List<Process> etcd = new ArrayList<>();
        try (VigilCluster vigil = VigilCluster.start(dir.resolve("vigil"), 3)) {
            awaitLeader(vigil);
            String[] etcdEndpoints = startEtcd(etcd);
            List<String> fromVigil = session(vigil.endpoint(0), vigil.endpoint(1), vigil.peerUrl(1));
            List<String> fromEtcd = session(etcdEndpoints[0], etcdEndpoints[1], "http://127.0.0.1:" + etcdPeerPorts[1]);
            assertEquals(String.join("\n", fromEtcd), String.join("\n", fromVigil));
        } finally {
            for (Process p : etcd) {
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }

    private final int[] etcdPeerPorts = new int[3];

    /** Three etcd members named as VigilCluster names its members; their client endpoints once all are healthy. */
    private String[] startEtcd(List<Process> processes) throws IOException {
        int[] clientPorts = new int[3];
        StringBuilder initial = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            etcdPeerPorts[i] = VigilCluster.freePort();
            clientPorts[i] = VigilCluster.freePort();
            initial.append(i == 0 ? "" : ",").append(VigilCluster.name(i)).append("=http://127.0.0.1:").append(etcdPeerPorts[i]);
        }
        String[] endpoints = new String[3];
        for (int i = 0; i < 3; i++) {
            endpoints[i] = "127.0.0.1:" + clientPorts[i];
            Path data = Files.createDirectories(dir.resolve("etcd").resolve(VigilCluster.name(i)));
            processes.add(new ProcessBuilder("etcd", "--name", VigilCluster.name(i), "--data-dir", data.toString(),
                    "--listen-client-urls", "http://" + endpoints[i], "--advertise-client-urls", "http://" + endpoints[i],
                    "--listen-peer-urls", "http://127.0.0.1:" + etcdPeerPorts[i],
                    "--initial-advertise-peer-urls", "http://127.0.0.1:" + etcdPeerPorts[i],
                    "--initial-cluster", initial.toString(), "--log-level", "error")
                    .redirectErrorStream(true).redirectOutput(data.resolveSibling(VigilCluster.name(i) + ".log").toFile())
                    .start());
        }
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(200)).until(() ->
                Etcdctl.run(String.join(",", endpoints), null, "endpoint", "health").exitCode() == 0);
        return endpoints;
    }

    /** The same etcdctl session against either cluster: member list, refusals, a learner added and removed. */
    private static List<String> session(String endpoint, String other, String takenPeerUrl) {
        List<String> out = new ArrayList<>();
        // every member has published its name and client URLs (both do it through their logs)
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(100)).until(() -> Etcdctl.run(endpoint, null,
                "member", "list").stdout().lines().filter(l -> l.split(", ").length == 6 && !l.split(", ")[4].isEmpty())
                .count() == 3);
        out.add(masked(Etcdctl.run(endpoint, null, "member", "list", "-w", "table").stdout()));
        String voter = firstId(Etcdctl.run(endpoint, null, "member", "list").stdout());
        out.add(last(Etcdctl.run(endpoint, null, "member", "promote", voter)));
        out.add(last(Etcdctl.run(endpoint, null, "member", "promote", "1234")));
        out.add(last(Etcdctl.run(endpoint, null, "member", "remove", "1234")));
        out.add(last(Etcdctl.run(endpoint, null, "member", "update", "1234", "--peer-urls=http://127.0.0.1:1")));
        // etcd refuses changes until its members have been connected for a while ("unhealthy cluster")
        String[] added = new String[1];
        String learnerUrl = "http://127.0.0.1:" + VigilCluster.freePort();
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(500)).until(() -> {
            Etcdctl.Result r = Etcdctl.run(endpoint, null, "member", "add", "l4", "--learner", "--peer-urls=" + learnerUrl);
            added[0] = r.exitCode() == 0 ? masked(sortedInitialCluster(r.stdout())) : null;
            return r.exitCode() == 0 || !r.stderr().contains("unhealthy cluster");
        });
        out.add(added[0]);
        out.add(last(Etcdctl.run(endpoint, null, "member", "add", "again", "--peer-urls=" + takenPeerUrl)));
        out.add(masked(Etcdctl.run(other, null, "member", "list", "-w", "table").stdout()));
        String learner = Etcdctl.run(endpoint, null, "member", "list").stdout().lines()
                .filter(l -> l.contains("unstarted")).findFirst().orElse(",").split(",")[0];
        out.add(last(Etcdctl.run(other, null, "member", "promote", learner)));
        out.add(masked(Etcdctl.run(endpoint, null, "member", "remove", learner).stdout()));
        out.add(masked(Etcdctl.run(other, null, "member", "list", "-w", "table").stdout()));
        return out;
    }

    private static String firstId(String memberList) {
        return memberList.lines().findFirst().orElse(",").split(",")[0];
    }

    /** The answer of a command that fails: etcdctl's last line (it prints each retry before it). */
    private static String last(Etcdctl.Result r) {
        String[] lines = (r.stdout() + r.stderr()).trim().split("\n");
        return r.exitCode() + " " + lines[lines.length - 1];
    }

    /** ETCD_INITIAL_CLUSTER lists the members in id order, which follows the ports: sort it. */
    private static String sortedInitialCluster(String addOutput) {
        StringBuilder sb = new StringBuilder();
        for (String line : addOutput.split("\n")) {
            if (line.startsWith("ETCD_INITIAL_CLUSTER=\"")) {
                String[] parts = line.substring(22, line.length() - 1).split(",");
                Arrays.sort(parts, (a, b) -> masked(a).compareTo(masked(b)));
                line = "ETCD_INITIAL_CLUSTER=\"" + String.join(",", parts) + "\"";
            }
            sb.append(line).append('\n');
        }
        return sb.toString();
    }

    /** Ids and ports masked, table padding collapsed, table rows in name order. */
    private static String masked(String s) {
        String m = s.replaceAll("\\b[0-9a-f]{12,16}\\b", "ID").replaceAll(":\\d{2,5}", ":PORT").replaceAll(" +", " ");
        List<String> lines = new ArrayList<>(m.lines().toList());
        List<String> rows = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("| ID |") && !l.contains("STATUS")) {
                rows.add(l);
            }
        }
        rows.sort(String::compareTo);
        int at = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("| ID |") && !lines.get(i).contains("STATUS")) {
                lines.set(i, rows.get(at++));
            }
        }
        return String.join("\n", lines);
    }
}
