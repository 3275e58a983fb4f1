package io.vigil.server;

import static io.vigil.server.OpenApiDocument.response;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The OpenAPI operations of the client port's HTTP answers that are not gateway calls (their
 * contracts are {@link HealthEndpoints}', {@link BrowserPage}'s and {@link ClientPortHttp}'s), of
 * watching over server-sent events ({@link GatewaySse}), and the gateway's error bodies
 * ({@link GatewayJson}).
 */
final class OpenApiPaths {
    private static final String JSON = GatewayExchange.JSON;
    private static final String TEXT = HealthEndpoints.TEXT;

    private OpenApiPaths() {
    }

    /** Path → path item, in the order they are listed. */
    static Map<String, JsonObject> others() {
        Map<String, JsonObject> paths = new LinkedHashMap<>();
        paths.put("/", get("A page for browsers (beyond etcd)",
                "The member's status and members and a live watch of a prefix, over the JSON gateway and GET "
                        + "/v3/watch; /?prefix=P starts watching P at once.",
                null, Map.of("200", response("The page.", "text/html; charset=utf-8", string()))));
        JsonObject healthSchema = object(Map.of("health", enumOf("true", "false")));
        paths.put("/health", get("etcd 3.4's health check",
                "Healthy unless an alarm is active, the member knows no leader, or a quorum read does not complete "
                        + "within a second. Other methods: 405.",
                null, Map.of("200", response("Healthy.", JSON, healthSchema),
                        "503", response("Not healthy (the body ends with a newline).", JSON, healthSchema))));
        paths.put("/version", get("The server and cluster versions, as etcd 3.4 answers them", "Other methods: 405.", null,
                Map.of("200", response("The versions.", JSON,
                        object(Map.of("etcdserver", string(), "etcdcluster", string()))))));
        paths.put("/livez", get("etcd 3.5's liveness check",
                "Live: the member answers reads from its own store. Other methods: 405.", checkParameters(),
                checkResponses("/livez")));
        paths.put("/readyz", get("etcd 3.5's readiness check",
                "Ready: live, no CORRUPT alarm, and a linearizable read completes within the request timeout "
                        + "(the member has applied what the leader had committed). Other methods: 405.",
                checkParameters(), checkResponses("/readyz")));
        paths.put("/metrics", get("Prometheus metrics, under etcd's names",
                "Prometheus' text format: etcd's metrics and Vigil's watch hub metrics.", null,
                Map.of("200", response("The metrics.", "text/plain; version=0.0.4; charset=utf-8", string()))));
        paths.put(OpenApiDocument.PATH, get("This document",
                "The OpenAPI document of this port's HTTP API, generated from the proto files at build time.", null,
                Map.of("200", response("The document.", JSON, object(Map.of())))));
        return paths;
    }

    /** {@code GET /v3/watch}: a watch as server-sent events ({@link GatewaySse}). */
    static JsonObject watchEvents() {
        JsonArray parameters = new JsonArray();
        parameters.add(parameter("key", "query", true,
                "The key to watch, or the range's first key: base64, standard or URL-safe alphabet, padding optional.",
                format("string", "byte")));
        parameters.add(parameter("range_end", "query", false,
                "The range's end (exclusive), base64 as key, as in a WatchCreateRequest; absent: the key alone.",
                format("string", "byte")));
        parameters.add(parameter("start_revision", "query", false,
                "The revision to watch from, in decimal; absent: from now.", format("string", "int64")));
        parameters.add(parameter("prev_kv", "query", false, "true: each event carries the key-value before it.",
                enumOf("true")));
        parameters.add(parameter("Last-Event-ID", "header", false,
                "The id of the last event received (a revision), as a reconnecting EventSource sends it: the watch "
                        + "starts right after it, whatever start_revision says.", format("string", "int64")));
        JsonObject op = new JsonObject();
        JsonArray tags = new JsonArray();
        tags.add("Watch");
        op.add("tags", tags);
        op.addProperty("operationId", "Watch_Events");
        op.addProperty("summary", "A watch as server-sent events (beyond etcd's gateway)");
        op.addProperty("description", String.join("\n\n",
                "The Watch call for one key or range, answered as text/event-stream for a browser's EventSource; "
                        + "also under /v3beta/watch. Every event's id is a revision all of whose events were sent, so "
                        + "a client resuming with Last-Event-ID misses nothing and gets nothing twice.",
                "Events: `created` (data: the created WatchResponse in the gateway's JSON; id: the revision the "
                        + "watch starts after); then one unnamed event per revision (data: {\"header\",\"events\"}, "
                        + "that revision's events together; id: the revision); progress notices as a comment and an "
                        + "id without data; `canceled` (data: the WatchResponse, e.g. with compact_revision) or "
                        + "`failed` (data: the gateway's error body) end the stream."));
        op.add("parameters", parameters);
        JsonObject responses = new JsonObject();
        responses.add("200", response("The event stream.", GatewaySse.EVENT_STREAM, string()));
        responses.add("default", response("The watch did not start (a missing or bad parameter: 400): the gRPC status, "
                + "with the HTTP status of its code.", JSON, OpenApiSchemas.ref(OpenApiDocument.ERROR)));
        op.add("responses", responses);
        op.add("security", OpenApiDocument.optionalToken());
        return op;
    }

    /** A unary call's error body: grpc-gateway v1's ({@link GatewayJson#errorBody}). */
    static JsonObject errorSchema() {
        JsonObject s = object(Map.of("error", string(), "message", string(), "code", format("integer", "int32")));
        s.addProperty("description", "A failed call: the gRPC status's message (twice) and code; an empty message is "
                + "left out.");
        return s;
    }

    /** A stream's last chunk, under "error": grpc-gateway v1's StreamError ({@link GatewayJson#streamError}). */
    static JsonObject streamErrorSchema() {
        Map<String, JsonObject> fields = new LinkedHashMap<>();
        fields.put("grpc_code", format("integer", "int32"));
        fields.put("http_code", format("integer", "int32"));
        fields.put("message", string());
        fields.put("http_status", string());
        JsonObject s = object(fields);
        s.addProperty("description", "How a stream failed: the gRPC code, the HTTP status it maps to and its text, "
                + "and the status's message.");
        return s;
    }

    private static JsonObject get(String summary, String description, JsonArray parameters,
                                  Map<String, JsonObject> responses) {
        JsonObject op = new JsonObject();
        op.addProperty("summary", summary);
        op.addProperty("description", description);
        if (parameters != null) {
            op.add("parameters", parameters);
        }
        JsonObject r = new JsonObject();
        responses.keySet().stream().sorted().forEach(code -> r.add(code, responses.get(code)));
        op.add("responses", r);
        JsonObject item = new JsonObject();
        item.add("get", op);
        return item;
    }

    private static JsonArray checkParameters() {
        JsonArray p = new JsonArray();
        JsonObject verbose = parameter("verbose", "query", false, "Present: one line per check, then the verdict.",
                string());
        verbose.addProperty("allowEmptyValue", true);
        p.add(verbose);
        JsonObject names = new JsonObject();
        names.addProperty("type", "array");
        names.add("items", string());
        p.add(parameter("exclude", "query", false, "A check to skip, by name (repeatable).", names));
        return p;
    }

    private static Map<String, JsonObject> checkResponses(String path) {
        return Map.of("200", response("ok (or, verbose, each check's line and \"" + path + " check passed\").", TEXT,
                        string()),
                "503", response("Each check's line and \"" + path + " check failed\".", TEXT, string()));
    }

    private static JsonObject parameter(String name, String in, boolean required, String description, JsonObject schema) {
        JsonObject p = new JsonObject();
        p.addProperty("name", name);
        p.addProperty("in", in);
        p.addProperty("required", required);
        p.addProperty("description", description);
        p.add("schema", schema);
        return p;
    }

    /** An object schema with these properties, sorted by name. */
    private static JsonObject object(Map<String, JsonObject> properties) {
        JsonObject s = new JsonObject();
        s.addProperty("type", "object");
        JsonObject props = new JsonObject();
        properties.keySet().stream().sorted().forEach(k -> props.add(k, properties.get(k)));
        s.add("properties", props);
        return s;
    }

    private static JsonObject enumOf(String... values) {
        JsonObject s = string();
        JsonArray a = new JsonArray();
        for (String v : values) {
            a.add(v);
        }
        s.add("enum", a);
        return s;
    }

    private static JsonObject string() {
        return format("string", null);
    }

    private static JsonObject format(String type, String format) {
        return OpenApiSchemas.scalar(type, format);
    }
}
