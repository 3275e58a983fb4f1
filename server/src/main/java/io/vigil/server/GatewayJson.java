package io.vigil.server;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonStreamParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON of etcd 3.4's gateway: grpc-gateway v1's {@code JSONPb{OrigName: true}} (golang
 * protobuf's jsonpb), byte for byte. Messages print with their proto field names, in field
 * order, without fields at their default value; int64 and uint64 as strings; bytes as standard
 * base64; enums by name; no whitespace. Strings are escaped as Go's encoding/json escapes them
 * ({@code <}, {@code >}, {@code &} as {@code \u003c}...; {@code \b} and {@code \f} as
 * {@code \u0008}, {@code \u000c}; {@code =} and {@code '} left as they are).
 *
 * <p>Requests parse with either name of a field (proto or JSON), int64 as string or number;
 * unknown fields are ignored, as etcd's gateway ignores them.
 *
 * <p>Errors: a call's status as grpc-gateway v1's error body ({@code error}, {@code message},
 * {@code code}), in a stream as its {@code StreamError} under {@code "error"};
 * HTTP statuses from gRPC codes as its {@code HTTPStatusFromCode}.
 */
final class GatewayJson {
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames()
            .omittingInsignificantWhitespace();
    /** etcd's gateway (jsonpb as grpc-gateway v1 sets it) ignores fields it does not know. */
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private GatewayJson() {
    }

    /** A message as etcd's gateway prints it. */
    static String print(MessageOrBuilder message) {
        try {
            return goEscapes(PRINTER.print(message));
        } catch (InvalidProtocolBufferException e) {
            // only Any fields with unknown types fail, and the etcd API has none
            throw new IllegalStateException(e);
        }
    }

    /** One response of a stream: {@code {"result":...}} (the delimiter is the caller's). */
    static String streamResult(MessageOrBuilder message) {
        return "{\"result\":" + print(message) + "}";
    }

    /** A unary call's failure: grpc-gateway v1's error body. */
    static String errorBody(Status status) {
        String message = message(status);
        if (message.isEmpty()) { // jsonpb leaves out what is at its default
            return "{\"code\":" + status.getCode().value() + "}";
        }
        return "{\"error\":" + quote(message) + ",\"message\":" + quote(message) + ",\"code\":" + status.getCode().value() + "}";
    }

    /** A stream's failure, as its last chunk: grpc-gateway v1's StreamError under "error". */
    static String streamError(Status status) {
        int http = httpStatus(status.getCode());
        StringBuilder b = new StringBuilder("{\"error\":{");
        if (status.getCode().value() != 0) {
            b.append("\"grpc_code\":").append(status.getCode().value()).append(',');
        }
        b.append("\"http_code\":").append(http);
        String message = message(status);
        if (!message.isEmpty()) {
            b.append(",\"message\":").append(quote(message));
        }
        return b.append(",\"http_status\":").append(quote(statusText(http))).append("}}").toString();
    }

    private static String message(Status status) {
        return status.getDescription() == null ? "" : status.getDescription();
    }

    /**
     * The JSON values one after another in a request body (a stream's requests); none for an
     * empty body. Parse failures are thrown as {@link InvalidProtocolBufferException}.
     */
    static List<JsonElement> values(String body) throws InvalidProtocolBufferException {
        List<JsonElement> out = new ArrayList<>();
        if (body.isBlank()) {
            return out;
        }
        try {
            JsonStreamParser p = new JsonStreamParser(body);
            while (p.hasNext()) {
                out.add(p.next());
            }
        } catch (JsonParseException e) {
            throw new InvalidProtocolBufferException(String.valueOf(e.getMessage()));
        }
        return out;
    }

    /** A request of {@code prototype}'s type from one JSON value. */
    static Message parse(JsonElement json, Message prototype) throws InvalidProtocolBufferException {
        Message.Builder b = prototype.newBuilderForType();
        PARSER.merge(json.toString(), b);
        return b.build();
    }

    /** grpc-gateway v1's HTTPStatusFromCode. */
    static int httpStatus(Status.Code code) {
        return switch (code) {
            case OK -> 200;
            case CANCELLED -> 408;
            case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
            case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
            case DEADLINE_EXCEEDED -> 504;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, ABORTED -> 409;
            case PERMISSION_DENIED -> 403;
            case UNAUTHENTICATED -> 401;
            case RESOURCE_EXHAUSTED -> 429;
            case FAILED_PRECONDITION -> 412;
            case UNIMPLEMENTED -> 501;
            case UNAVAILABLE -> 503;
        };
    }

    /** Go's http.StatusText for the statuses the gateway and the health endpoints answer. */
    static String statusText(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 409 -> "Conflict";
            case 412 -> "Precondition Failed";
            case 413 -> "Request Entity Too Large";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "";
        };
    }

    /** A string as Go's encoding/json writes it (HTML-safe escaping). */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /**
     * JsonFormat's output (Gson's escaping) turned into Go's: Gson also escapes {@code =} and
     * {@code '}, and writes {@code \b} and {@code \f} short; Go does neither. Only escapes are
     * rewritten: an escaped backslash is copied as it is, so what follows it stays literal text.
     */
    static String goEscapes(String json) {
        if (json.indexOf('\\') < 0) {
            return json;
        }
        StringBuilder b = new StringBuilder(json.length());
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (c != '\\' || i + 1 >= json.length()) {
                b.append(c);
                continue;
            }
            char next = json.charAt(i + 1);
            if (next == 'u' && i + 5 < json.length()) {
                String hex = json.substring(i + 2, i + 6);
                if (hex.equalsIgnoreCase("003d")) {
                    b.append('=');
                } else if (hex.equalsIgnoreCase("0027")) {
                    b.append('\'');
                } else {
                    b.append(json, i, i + 6);
                }
                i += 5;
            } else if (next == 'b') {
                b.append("\\u0008");
                i++;
            } else if (next == 'f') {
                b.append("\\u000c");
                i++;
            } else {
                b.append(c).append(next);
                i++;
            }
        }
        return b.toString();
    }
}
