package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A member added as an operator adds one: {@code etcdctl member add}, then the server started with
 * the flags etcdctl printed ({@code --initial-cluster-state existing}) on an empty data directory.
 */
record AddedMember(long id, String peerUrl, VigilProcess process) {
    private static final Pattern ADDED = Pattern.compile("Member +([0-9a-f]+) added to cluster");
    private static final Pattern INITIAL_CLUSTER = Pattern.compile("ETCD_INITIAL_CLUSTER=\"([^\"]+)\"");

    /** {@code etcdctl member add name [--learner]} through {@code endpoint}; the member's data goes to {@code dir/name}. */
    static AddedMember add(Path dir, String endpoint, String name, boolean learner, String... extraFlags) {
        String peerUrl = "http://127.0.0.1:" + VigilCluster.freePort();
        Etcdctl.Result r = learner
                ? Etcdctl.run(endpoint, null, "member", "add", name, "--learner", "--peer-urls=" + peerUrl)
                : Etcdctl.run(endpoint, null, "member", "add", name, "--peer-urls=" + peerUrl);
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\""), r.stdout());
        Matcher id = ADDED.matcher(r.stdout());
        Matcher initial = INITIAL_CLUSTER.matcher(r.stdout());
        assertTrue(id.find() && initial.find(), r.stdout());
        return new AddedMember(Long.parseUnsignedLong(id.group(1), 16), peerUrl,
                startJoined(dir, name, initial.group(1), peerUrl, extraFlags));
    }

    /** Starts (again) a member of a running cluster, on fixed client and peer ports. */
    static VigilProcess startJoined(Path dir, String name, String initialCluster, String peerUrl, String... extraFlags) {
        List<String> flags = new ArrayList<>(List.of("--name", name, "--initial-cluster", initialCluster,
                "--initial-cluster-state", "existing", "--initial-advertise-peer-urls", peerUrl,
                "--listen-peer-urls", peerUrl, "--listen-client-urls", "http://127.0.0.1:" + VigilCluster.freePort()));
        flags.addAll(List.of(extraFlags));
        return VigilProcess.start(dir.resolve(name), flags.toArray(String[]::new));
    }
}
