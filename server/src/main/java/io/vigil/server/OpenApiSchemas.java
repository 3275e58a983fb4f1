package io.vigil.server;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FieldDescriptor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * OpenAPI 3.0 schemas of proto messages in the JSON of etcd's gateway ({@link GatewayJson}): a
 * message is an object whose properties are its fields under their proto names (the gateway
 * prints those; it also reads the lowerCamel JSON names); int64, sint64, sfixed64 are strings of
 * format {@code int64}, uint64 and fixed64 of format {@code uint64}; 32-bit integers numbers;
 * bytes strings of format {@code byte} (standard base64); an enum a string, one of its value
 * names; a repeated field an array; a message field a {@code $ref} to that message's schema.
 * Fields at their default value are left out of answers, so no property is required.
 *
 * <p>Each schema is named by its type's full proto name ({@code etcdserverpb.RangeRequest},
 * {@code mvccpb.Event.EventType}); {@link #all} lists every type reached, sorted by name.
 */
final class OpenApiSchemas {
    static final String REFS = "#/components/schemas/";

    private final Map<String, JsonObject> schemas = new TreeMap<>();
    private final Function<Descriptors.GenericDescriptor, String> comments;

    /** @param comments a declaration's comment, or null: the schemas' descriptions */
    OpenApiSchemas(Function<Descriptors.GenericDescriptor, String> comments) {
        this.comments = comments;
    }

    /** A {@code $ref} to the schema named {@code name}. */
    static JsonObject ref(String name) {
        JsonObject r = new JsonObject();
        r.addProperty("$ref", REFS + name);
        return r;
    }

    /** A {@code $ref} to {@code type}'s schema, which is added, with every type it uses. */
    JsonObject ref(Descriptors.Descriptor type) {
        message(type);
        return ref(type.getFullName());
    }

    /** Every schema reached so far, by name. */
    Map<String, JsonObject> all() {
        return schemas;
    }

    private void message(Descriptors.Descriptor type) {
        String name = type.getFullName();
        if (schemas.containsKey(name)) {
            return;
        }
        if (name.startsWith("google.protobuf.")) {
            // their JSON is not an object of their fields; the etcd API uses none
            throw new IllegalStateException("no JSON schema for well-known type " + name);
        }
        JsonObject s = new JsonObject();
        schemas.put(name, s); // before its fields: a type may contain itself
        s.addProperty("type", "object");
        List<String> notes = new ArrayList<>();
        String comment = comments.apply(type);
        if (comment != null) {
            notes.add(comment);
        }
        for (Descriptors.OneofDescriptor o : type.getRealOneofs()) {
            List<String> fields = o.getFields().stream().map(FieldDescriptor::getName).toList();
            notes.add("At most one of " + String.join(", ", fields) + " (oneof " + o.getName() + ").");
        }
        if (!notes.isEmpty()) {
            s.addProperty("description", String.join("\n\n", notes));
        }
        JsonObject properties = new JsonObject();
        for (FieldDescriptor f : type.getFields()) {
            properties.add(f.getName(), field(f));
        }
        s.add("properties", properties);
    }

    private JsonObject field(FieldDescriptor f) {
        JsonObject s;
        if (f.isMapField()) {
            s = new JsonObject();
            s.addProperty("type", "object");
            s.add("additionalProperties", value(f.getMessageType().findFieldByName("value")));
        } else if (f.isRepeated()) {
            s = new JsonObject();
            s.addProperty("type", "array");
            s.add("items", value(f));
        } else {
            s = value(f);
        }
        String comment = comments.apply(f);
        if (comment != null && !s.has("$ref")) { // a $ref's siblings are ignored
            s.addProperty("description", comment);
        }
        return s;
    }

    private JsonObject value(FieldDescriptor f) {
        return switch (f.getType()) {
            case INT64, SINT64, SFIXED64 -> scalar("string", "int64");
            case UINT64, FIXED64 -> scalar("string", "uint64");
            case INT32, SINT32, SFIXED32 -> scalar("integer", "int32");
            case UINT32, FIXED32 -> scalar("integer", "int64");
            case BOOL -> scalar("boolean", null);
            case FLOAT -> scalar("number", "float");
            case DOUBLE -> scalar("number", "double");
            case STRING -> scalar("string", null);
            case BYTES -> scalar("string", "byte");
            case ENUM -> enumRef(f.getEnumType());
            case MESSAGE, GROUP -> ref(f.getMessageType());
        };
    }

    private JsonObject enumRef(Descriptors.EnumDescriptor type) {
        String name = type.getFullName();
        if (!schemas.containsKey(name)) {
            JsonObject s = scalar("string", null);
            String comment = comments.apply(type);
            if (comment != null) {
                s.addProperty("description", comment);
            }
            JsonArray names = new JsonArray();
            type.getValues().forEach(v -> names.add(v.getName()));
            s.add("enum", names);
            schemas.put(name, s);
        }
        return ref(name);
    }

    /** {@code {"type": type, "format": format}}, without a format if it is null. */
    static JsonObject scalar(String type, String format) {
        JsonObject s = new JsonObject();
        s.addProperty("type", type);
        if (format != null) {
            s.addProperty("format", format);
        }
        return s;
    }
}
