package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client port's /health and /version against etcd 3.4's (curl, byte for byte after the
 * server's version), and /livez and /readyz: ready on a member with a leader, not ready (503,
 * the linearizable read failing) on a member that has none, while it is still live.
 */
class HealthHttpTest {
    @TempDir
    Path tmp;

    @Test
    void healthAndVersionMatchEtcd() throws Exception {
        Curl.assumeInstalled();
        BothServers.Results<List<String>> r = BothServers.run(tmp, endpoint -> List.of(
                Curl.request(endpoint, "GET", "/health").toString(),
                Curl.request(endpoint, "POST", "/health").toString(),
                Curl.request(endpoint, "GET", "/version").toString()
                        .replaceAll("\"etcdserver\":\"[^\"]*\"", "\"etcdserver\":\"V\""),
                Curl.request(endpoint, "PUT", "/version").toString(),
                Curl.request(endpoint, "GET", "/metrics").status() + " metrics"));
        assertEquals(String.join("\n", r.etcd()), String.join("\n", r.vigil()));
    }

    @Test
    void livezAndReadyzOnAMemberWithALeader() {
        Curl.assumeInstalled();
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            String e = vigil.endpoint();
            assertEquals("200 ok", Curl.request(e, "GET", "/livez").toString());
            assertEquals("200 ok", Curl.request(e, "GET", "/readyz").toString());
            assertEquals("200 [+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n/readyz check passed\n",
                    Curl.request(e, "GET", "/readyz?verbose").toString());
            assertEquals("200 [+]serializable_read ok\n/livez check passed\n", Curl.request(e, "GET", "/livez?verbose").toString());
            assertEquals("200 [+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read excluded: ok\n"
                    + "/readyz check passed\n", Curl.request(e, "GET", "/readyz?verbose&exclude=linearizable_read").toString());
            assertEquals("405 Method Not Allowed\n", Curl.request(e, "POST", "/readyz").toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aMemberWithoutALeaderIsLiveButNotReadyNorHealthy() throws Exception {
        Curl.assumeInstalled();
        // one member of three, alone: it can elect no leader
        try (VigilCluster c = VigilCluster.unstarted(tmp, 3)) {
            c.startMember(0);
            String e = c.endpoint(0);
            assertEquals("200 ok", Curl.request(e, "GET", "/livez").toString());
            assertEquals("503 {\"health\":\"false\"}\n", Curl.request(e, "GET", "/health").toString());
            String ready = Curl.request(e, "GET", "/readyz").toString();
            assertTrue(ready.startsWith("503 [+]data_corruption ok\n[+]serializable_read ok\n[-]linearizable_read failed: "), ready);
            assertTrue(ready.endsWith("\n/readyz check failed\n"), ready);
        }
    }
}
