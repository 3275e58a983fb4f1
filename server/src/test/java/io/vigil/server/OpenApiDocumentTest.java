package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI document: the committed copy is the generated one; a real server serves it at
 * /openapi.json, and it lists exactly the paths the client port serves, with the gateway's JSON
 * (bytes as base64 strings, 64-bit integers as strings).
 */
class OpenApiDocumentTest {
    private static final Path COMMITTED = Path.of("..", "docs", "openapi.json");
    private static final String REGENERATE = "./mvnw -o -q -pl server -am process-classes"
            + " && cp server/target/classes/io/vigil/server/openapi.json docs/openapi.json";
    /** The client port's paths beside the gateway's. */
    private static final Set<String> OTHER_PATHS = Set.of("/", "/health", "/version", "/livez", "/readyz", "/metrics",
            "/openapi.json");

    @TempDir
    Path tmp;

    @Test
    void theCommittedCopyAndTheBuiltOneAreTheGeneratedDocument() throws Exception {
        String generated = OpenApiDocument.text();
        assertSameText(generated, OpenApiDocument.served(), "the build did not write the current document; run " + REGENERATE);
        assertSameText(generated, Files.readString(COMMITTED),
                "docs/openapi.json is not the generated document (it is never edited by hand); regenerate it with: "
                        + REGENERATE);
    }

    /** Fails with {@code message} and the first line that differs (not the whole document). */
    private static void assertSameText(String expected, String actual, String message) {
        if (expected.equals(actual)) {
            return;
        }
        String[] e = expected.split("\n", -1);
        String[] a = actual == null ? new String[0] : actual.split("\n", -1);
        int line = 0;
        while (line < e.length && line < a.length && e[line].equals(a[line])) {
            line++;
        }
        fail(message + "\nfirst difference at line " + (line + 1) + ": expected "
                + (line < e.length ? e[line] : "(end)") + ", found " + (line < a.length ? a[line] : "(end)"));
    }

    @Test
    void aServerServesTheDocumentListingEveryPathItServes() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"))) {
            HttpResponse<String> r = get(http, vigil.endpoint(), "/openapi.json");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
            assertEquals("*", r.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
            JsonObject doc = JsonParser.parseString(r.body()).getAsJsonObject();
            assertTrue(doc.get("openapi").getAsString().startsWith("3.0."), doc.get("openapi").toString());
            assertEquals("Vigil client port HTTP API", doc.getAsJsonObject("info").get("title").getAsString());
            assertNotNull(doc.getAsJsonObject("info").get("version"));

            JsonObject paths = doc.getAsJsonObject("paths");
            Set<String> expected = new TreeSet<>(GatewayRoutes.all().keySet());
            expected.addAll(OTHER_PATHS);
            assertEquals(expected, new TreeSet<>(paths.keySet()));
            for (String path : GatewayRoutes.all().keySet()) {
                assertTrue(paths.getAsJsonObject(path).has("post"), path);
            }
            assertTrue(paths.getAsJsonObject("/v3/watch").has("get"), "GET /v3/watch: server-sent events");
            assertEquals(400, get(http, vigil.endpoint(), "/v3/watch").statusCode(), "served: refused without a key");
            for (String path : OTHER_PATHS) {
                assertTrue(paths.getAsJsonObject(path).has("get"), path);
                assertNotEquals(404, get(http, vigil.endpoint(), path).statusCode(), path);
            }
            assertRefsResolve(doc, doc);

            JsonObject schemas = doc.getAsJsonObject("components").getAsJsonObject("schemas");
            JsonObject put = paths.getAsJsonObject("/v3/kv/put").getAsJsonObject("post");
            String ref = put.getAsJsonObject("requestBody").getAsJsonObject("content").getAsJsonObject("application/json")
                    .getAsJsonObject("schema").get("$ref").getAsString();
            JsonObject request = schemas.getAsJsonObject(ref.substring(OpenApiSchemas.REFS.length()));
            JsonObject fields = request.getAsJsonObject("properties");
            for (String bytes : new String[] {"key", "value"}) {
                assertEquals("string", fields.getAsJsonObject(bytes).get("type").getAsString(), bytes);
                assertEquals("byte", fields.getAsJsonObject(bytes).get("format").getAsString(), bytes);
            }
            assertEquals("string", fields.getAsJsonObject("lease").get("type").getAsString(), "int64 as a string");
        }
    }

    /** Every {@code $ref} in {@code node} names a schema of {@code doc}. */
    private static void assertRefsResolve(JsonObject doc, JsonElement node) {
        if (node.isJsonArray()) {
            node.getAsJsonArray().forEach(e -> assertRefsResolve(doc, e));
        } else if (node.isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : node.getAsJsonObject().entrySet()) {
                if (e.getKey().equals("$ref")) {
                    String ref = e.getValue().getAsString();
                    assertTrue(ref.startsWith(OpenApiSchemas.REFS), ref);
                    assertTrue(doc.getAsJsonObject("components").getAsJsonObject("schemas")
                            .has(ref.substring(OpenApiSchemas.REFS.length())), ref);
                } else {
                    assertRefsResolve(doc, e.getValue());
                }
            }
        }
    }

    private static HttpResponse<String> get(HttpClient http, String endpoint, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint + path)).timeout(ClusterClients.PATIENCE)
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
