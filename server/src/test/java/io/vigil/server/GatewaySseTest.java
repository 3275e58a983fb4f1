package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GET /v3/watch as server-sent events, read with curl as a browser's EventSource reads them:
 * every revision exactly once across a disconnect and a reconnect with Last-Event-ID (also when
 * the client saw nothing but the created event), a transaction as one event, a compacted start
 * cancelled, and bad parameters refused with the gateway's error body.
 */
class GatewaySseTest {
    private static final String WATCH_APP = "/v3/watch?key=" + Curl.b64("app/") + "&range_end=" + Curl.b64("app0");

    @TempDir
    Path tmp;

    /** One server-sent event as read: its id (null: none), its event name (null: "message") and its data. */
    record Sse(String id, String event, String data) {
        JsonObject json() {
            return JsonParser.parseString(data).getAsJsonObject();
        }

        /** The keys of the event's etcd events, in order. */
        List<String> keys() {
            List<String> keys = new ArrayList<>();
            for (JsonElement e : json().getAsJsonArray("events")) {
                String b64 = e.getAsJsonObject().getAsJsonObject("kv").get("key").getAsString();
                keys.add(new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8));
            }
            return keys;
        }
    }

    /** The next event on a stream (comments skipped; an id-only block is an event without data). */
    static Sse next(Curl.Stream s) throws InterruptedException {
        String id = null;
        String event = null;
        StringBuilder data = null;
        while (true) {
            String line = s.next();
            if (line.isEmpty()) {
                if (id != null || data != null) {
                    return new Sse(id, event, data == null ? null : data.toString());
                }
            } else if (line.startsWith("id: ")) {
                id = line.substring(4);
            } else if (line.startsWith("event: ")) {
                event = line.substring(7);
            } else if (line.startsWith("data: ")) {
                data = data == null ? new StringBuilder(line.substring(6)) : data.append('\n').append(line.substring(6));
            }
        }
    }

    /** The next event with data (progress notices skipped). */
    static Sse nextWithData(Curl.Stream s) throws InterruptedException {
        Sse e;
        do {
            e = next(s);
        } while (e.data() == null);
        return e;
    }

    private static Curl.Stream sse(String endpoint, String path, String lastEventId) {
        List<String> args = new ArrayList<>();
        if (lastEventId != null) {
            args.addAll(List.of("-H", "Last-Event-ID: " + lastEventId));
        }
        return new Curl.Stream(endpoint, path, args);
    }

    private static void put(String endpoint, String key, String value) {
        assertEquals(0, Etcdctl.run(endpoint, null, "put", key, value).exitCode());
    }

    @Test
    void resumesAfterADisconnectWithEveryRevisionExactlyOnce() throws Exception {
        Curl.assumeInstalled();
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            String e = vigil.endpoint();
            put(e, "app/0", "before");
            put(e, "other", "not watched");
            List<String> seen = new ArrayList<>();
            List<Long> revisions = new ArrayList<>();
            String lastId;
            try (Curl.Stream first = sse(e, WATCH_APP + "&start_revision=1", null)) {
                Sse created = next(first);
                assertEquals("created", created.event());
                assertEquals("0", created.id());
                assertTrue(created.json().get("created").getAsBoolean());
                put(e, "app/1", "v");
                // a transaction: two events of one revision, one server-sent event
                assertEquals(0, Etcdctl.run(e, "\nput app/2a v\nput app/2b v\n\n\n", "txn").exitCode());
                put(e, "app/3", "v");
                for (int i = 0; i < 4; i++) {
                    Sse ev = nextWithData(first);
                    seen.addAll(ev.keys());
                    revisions.add(Long.parseLong(ev.id()));
                }
                lastId = String.valueOf(revisions.get(revisions.size() - 1));
            }
            // disconnected: these happen while nobody watches
            put(e, "app/4", "v");
            put(e, "other", "still not watched");
            put(e, "app/5", "v");
            try (Curl.Stream second = sse(e, WATCH_APP + "&start_revision=1", lastId)) {
                Sse created = next(second);
                assertEquals("created", created.event());
                assertEquals(lastId, created.id(), "positioned after the last revision the client saw");
                for (int i = 0; i < 2; i++) {
                    Sse ev = nextWithData(second);
                    seen.addAll(ev.keys());
                    revisions.add(Long.parseLong(ev.id()));
                }
            }
            assertEquals(List.of("app/0", "app/1", "app/2a", "app/2b", "app/3", "app/4", "app/5"), seen);
            for (int i = 1; i < revisions.size(); i++) {
                assertTrue(revisions.get(i) > revisions.get(i - 1), "revisions in order, each once: " + revisions);
            }
        }
    }

    @Test
    void aClientThatSawOnlyTheCreatedEventMissesNothing() throws Exception {
        Curl.assumeInstalled();
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            String e = vigil.endpoint();
            put(e, "app/old", "before the watch");
            String createdId;
            try (Curl.Stream first = sse(e, WATCH_APP, null)) {
                Sse created = next(first);
                assertEquals("created", created.event());
                createdId = created.id();
            }
            put(e, "app/new", "while disconnected");
            try (Curl.Stream second = sse(e, WATCH_APP, createdId)) {
                assertEquals("created", next(second).event());
                Sse ev = nextWithData(second);
                assertEquals(List.of("app/new"), ev.keys());
            }
        }
    }

    @Test
    void aCompactedStartIsCanceledAndTheStreamEnds() throws Exception {
        Curl.assumeInstalled();
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            String e = vigil.endpoint();
            put(e, "app/1", "v");
            put(e, "app/2", "v");
            put(e, "app/3", "v");
            assertEquals(0, Etcdctl.run(e, null, "compact", "3").exitCode());
            try (Curl.Stream s = sse(e, WATCH_APP + "&start_revision=1", null)) {
                assertEquals("created", next(s).event());
                Sse canceled = next(s);
                assertEquals("canceled", canceled.event());
                assertEquals("3", canceled.json().get("compact_revision").getAsString());
                assertTrue(s.ends(), "the response ends after the cancel");
            }
        }
    }

    @Test
    void badParametersAreRefusedWithTheGatewaysErrorBody() {
        Curl.assumeInstalled();
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            String e = vigil.endpoint();
            assertEquals("400 {\"error\":\"key is required (base64)\",\"message\":\"key is required (base64)\",\"code\":3}",
                    Curl.request(e, "GET", "/v3/watch").toString());
            assertEquals(400, Curl.request(e, "GET", "/v3/watch?key=***").status());
            assertEquals(400, Curl.request(e, "GET", WATCH_APP + "&start_revision=-4").status());
            // the server goes on serving
            put(e, "app/after", "ok");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
