package io.vigil.server;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Descriptors;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The OpenAPI 3.0 document of the client port's HTTP API, served at {@value #PATH}: every JSON
 * gateway path ({@link GatewayRoutes}, so the {@code google.api.http} options of the proto
 * files) with its request and response messages as schemas ({@link OpenApiSchemas}), and the
 * other HTTP paths the port serves; descriptions are the proto comments ({@link OpenApiComments}).
 * OpenAPI 3.0 rather than etcd's Swagger 2.0: what current tools take first, and it gives each
 * media type of an answer its own schema (JSON, text, {@code text/event-stream}).
 *
 * <p>The build writes it ({@link #main}, in the server module's process-classes phase) beside
 * this class as {@value #RESOURCE}, and the jar ships it; docs/openapi.json in the repository is
 * the same text, checked by a test. The text is deterministic: paths in etcd's order, schemas
 * sorted by name, two-space indents, a newline at the end.
 */
final class OpenApiDocument {
    static final String PATH = "/openapi.json";
    /** The class path resource the build writes, beside this class. */
    static final String RESOURCE = "openapi.json";
    static final String VERSION = "3.0.3";
    private static final String JSON = GatewayExchange.JSON;
    static final String ERROR = "vigil.GatewayError";
    static final String STREAM_ERROR = "vigil.GatewayStreamError";
    private static final String TOKEN = "token";

    private OpenApiDocument() {
    }

    /** Writes the document to the file {@code args[0]} (its directories are made). */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, text(), StandardCharsets.UTF_8);
    }

    /** The document, as the build writes it. */
    static String text() {
        return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(document()) + "\n";
    }

    /** The document the build wrote beside this class, or null when it did not (not served then). */
    static String served() {
        return Served.TEXT;
    }

    /** Read once, on first use. */
    private static final class Served {
        static final String TEXT = read();

        private static String read() {
            try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
                return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static JsonObject document() {
        OpenApiComments comments = OpenApiComments.load();
        OpenApiSchemas schemas = new OpenApiSchemas(comments);
        JsonObject doc = new JsonObject();
        doc.addProperty("openapi", VERSION);
        doc.add("info", info());
        JsonObject paths = new JsonObject();
        Map<String, Descriptors.ServiceDescriptor> services = new LinkedHashMap<>();
        Map<String, Integer> bindings = new HashMap<>();
        for (Map.Entry<String, MethodDescriptor<?, ?>> route : GatewayRoutes.all().entrySet()) {
            Descriptors.MethodDescriptor m = GatewayRoutes.proto(route.getValue());
            services.put(m.getService().getName(), m.getService());
            int binding = bindings.merge(m.getFullName(), 1, Integer::sum);
            JsonObject item = new JsonObject();
            item.add("post", call(m, binding, schemas, comments));
            paths.add(route.getKey(), item);
        }
        paths.getAsJsonObject("/v3/watch").add("get", OpenApiPaths.watchEvents());
        OpenApiPaths.others().forEach(paths::add);
        doc.add("paths", paths);
        JsonObject components = new JsonObject();
        JsonObject all = new JsonObject();
        schemas.all().forEach(all::add);
        all.add(ERROR, OpenApiPaths.errorSchema());
        all.add(STREAM_ERROR, OpenApiPaths.streamErrorSchema());
        components.add("schemas", all);
        components.add("securitySchemes", securitySchemes());
        doc.add("components", components);
        JsonArray tagList = new JsonArray();
        services.forEach((name, service) -> {
            JsonObject tag = new JsonObject();
            tag.addProperty("name", name);
            String comment = comments.apply(service);
            tag.addProperty("description", (comment == null ? "" : comment + " ") + "gRPC service " + service.getFullName()
                    + ".");
            tagList.add(tag);
        });
        doc.add("tags", tagList);
        return doc;
    }

    private static JsonObject info() {
        JsonObject info = new JsonObject();
        info.addProperty("title", "Vigil client port HTTP API");
        info.addProperty("version", "3.4");
        info.addProperty("description", String.join("\n\n",
                "etcd 3.4's JSON gateway (grpc-gateway v1) on the client port, beside gRPC, and the port's other "
                        + "HTTP answers. Generated at build time from the proto files' google.api.http options and "
                        + "message declarations; do not edit.",
                "Every gateway path is a POST whose body is the request message in JSON and is also served, "
                        + "deprecated as in etcd 3.4, under /v3beta/ in place of /v3/ (not listed). A call is the gRPC "
                        + "method it names, with the same auth, limits and errors.",
                "JSON as etcd's gateway (jsonpb with OrigName): fields under their proto names (the lowerCamel "
                        + "JSON names are read too), fields at their default value left out, 64-bit integers as "
                        + "strings, bytes as standard base64, enums by value name; unknown request fields are ignored.",
                "Auth: the token from /v3/auth/authenticate goes in the Authorization header as it is (no "
                        + "scheme). Errors: {\"error\",\"message\",\"code\"} with the gRPC code, under the HTTP "
                        + "status grpc-gateway v1 gives that code."));
        return info;
    }

    /** POST of one gateway path; {@code binding} counts the paths of the same method (1: its first). */
    private static JsonObject call(Descriptors.MethodDescriptor m, int binding, OpenApiSchemas schemas,
                                   Function<Descriptors.GenericDescriptor, String> comments) {
        String grpcName = m.getService().getFullName() + "/" + m.getName();
        JsonObject op = new JsonObject();
        JsonArray tags = new JsonArray();
        tags.add(m.getService().getName());
        op.add("tags", tags);
        op.addProperty("operationId", m.getService().getName() + "_" + m.getName() + (binding > 1 ? binding : ""));
        op.addProperty("summary", grpcName);
        StringBuilder d = new StringBuilder();
        String comment = comments.apply(m);
        if (comment != null) {
            d.append(comment).append("\n\n");
        }
        d.append("Calls the gRPC method ").append(grpcName).append('.');
        if (m.isClientStreaming()) {
            d.append(" The body may hold several requests, one JSON value after another; they are sent in order"
                    + " and then the client's side of the stream is closed.");
        }
        if (m.isServerStreaming()) {
            d.append(" The answer is a chunked stream: each response as {\"result\":...} and a newline, sent as it"
                    + " comes; a failure ends it with {\"error\":{...}}.");
        }
        op.addProperty("description", d.toString());
        JsonObject body = new JsonObject();
        body.add("content", content(JSON, schemas.ref(m.getInputType())));
        op.add("requestBody", body);
        JsonObject responses = new JsonObject();
        if (m.isServerStreaming()) {
            JsonObject line = new JsonObject();
            line.addProperty("type", "object");
            JsonObject props = new JsonObject();
            props.add("result", schemas.ref(m.getOutputType()));
            props.add("error", OpenApiSchemas.ref(STREAM_ERROR));
            line.add("properties", props);
            responses.add("200", response("A stream of newline-delimited JSON objects, each of this schema.", JSON, line));
        } else {
            responses.add("200", response("The response.", JSON, schemas.ref(m.getOutputType())));
        }
        responses.add("default", response("The call failed: the gRPC status, with the HTTP status of its code.",
                JSON, OpenApiSchemas.ref(ERROR)));
        op.add("responses", responses);
        op.add("security", optionalToken());
        return op;
    }

    /** An operation's security: none (auth disabled) or the token. */
    static JsonArray optionalToken() {
        JsonArray security = new JsonArray();
        security.add(new JsonObject());
        JsonObject token = new JsonObject();
        token.add(TOKEN, new JsonArray());
        security.add(token);
        return security;
    }

    private static JsonObject securitySchemes() {
        JsonObject token = new JsonObject();
        token.addProperty("type", "apiKey");
        token.addProperty("in", "header");
        token.addProperty("name", "Authorization");
        token.addProperty("description", "The token /v3/auth/authenticate answers, as it is; needed once auth is enabled.");
        JsonObject schemes = new JsonObject();
        schemes.add(TOKEN, token);
        return schemes;
    }

    /** {@code {"<type>": {"schema": schema}}}. */
    static JsonObject content(String type, JsonObject schema) {
        JsonObject media = new JsonObject();
        media.add("schema", schema);
        JsonObject content = new JsonObject();
        content.add(type, media);
        return content;
    }

    /** A response: its description and, if {@code type} is not null, its content. */
    static JsonObject response(String description, String type, JsonObject schema) {
        JsonObject r = new JsonObject();
        r.addProperty("description", description);
        if (type != null) {
            r.add("content", content(type, schema));
        }
        return r;
    }
}
