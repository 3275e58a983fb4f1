package io.vigil.server;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.SourceCodeInfo;
import com.google.protobuf.Descriptors;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The comment written before each proto declaration, for the OpenAPI document's descriptions:
 * read from the descriptor set with source info that the proto module's build writes beside its
 * classes ({@value #RESOURCE}), since generated classes keep no comments. A declaration without a
 * comment, or any when the set is not on the class path, has none (null).
 *
 * <p>A comment is its lines without the leading space, wrapped lines joined into one and
 * paragraphs (blank lines) kept.
 */
final class OpenApiComments implements Function<Descriptors.GenericDescriptor, String> {
    static final String RESOURCE = "/io/vigil/proto/descriptors.binpb";
    // field numbers of FileDescriptorProto, DescriptorProto and ServiceDescriptorProto in a location's path
    private static final int FILE_MESSAGE = 4;
    private static final int FILE_ENUM = 5;
    private static final int FILE_SERVICE = 6;
    private static final int MESSAGE_FIELD = 2;
    private static final int MESSAGE_NESTED = 3;
    private static final int MESSAGE_ENUM = 4;
    private static final int SERVICE_METHOD = 2;

    /** file name → location path → comment. */
    private final Map<String, Map<List<Integer>, String>> byFile = new HashMap<>();

    private OpenApiComments() {
    }

    static OpenApiComments load() {
        OpenApiComments c = new OpenApiComments();
        try (InputStream in = OpenApiComments.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return c;
            }
            for (FileDescriptorProto file : FileDescriptorSet.parseFrom(in).getFileList()) {
                Map<List<Integer>, String> comments = new HashMap<>();
                for (SourceCodeInfo.Location l : file.getSourceCodeInfo().getLocationList()) {
                    if (l.hasLeadingComments()) {
                        comments.put(List.copyOf(l.getPathList()), clean(l.getLeadingComments()));
                    }
                }
                c.byFile.put(file.getName(), comments);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return c;
    }

    @Override
    public String apply(Descriptors.GenericDescriptor d) {
        Map<List<Integer>, String> comments = byFile.get(d.getFile().getName());
        List<Integer> path = path(d);
        return comments == null || path == null ? null : comments.get(path);
    }

    /** The declaration's path in its file's source info; null for kinds not described. */
    private static List<Integer> path(Descriptors.GenericDescriptor d) {
        List<Integer> p = new ArrayList<>();
        if (d instanceof Descriptors.Descriptor m) {
            p.addAll(messagePath(m));
        } else if (d instanceof Descriptors.FieldDescriptor f && !f.isExtension()) {
            p.addAll(messagePath(f.getContainingType()));
            p.addAll(List.of(MESSAGE_FIELD, f.getIndex()));
        } else if (d instanceof Descriptors.EnumDescriptor e) {
            if (e.getContainingType() == null) {
                p.addAll(List.of(FILE_ENUM, e.getIndex()));
            } else {
                p.addAll(messagePath(e.getContainingType()));
                p.addAll(List.of(MESSAGE_ENUM, e.getIndex()));
            }
        } else if (d instanceof Descriptors.ServiceDescriptor s) {
            p.addAll(List.of(FILE_SERVICE, s.getIndex()));
        } else if (d instanceof Descriptors.MethodDescriptor m) {
            p.addAll(List.of(FILE_SERVICE, m.getService().getIndex(), SERVICE_METHOD, m.getIndex()));
        } else {
            return null;
        }
        return p;
    }

    private static List<Integer> messagePath(Descriptors.Descriptor m) {
        if (m.getContainingType() == null) {
            return List.of(FILE_MESSAGE, m.getIndex());
        }
        List<Integer> p = new ArrayList<>(messagePath(m.getContainingType()));
        p.addAll(List.of(MESSAGE_NESTED, m.getIndex()));
        return p;
    }

    private static String clean(String comment) {
        StringBuilder b = new StringBuilder();
        for (String line : comment.strip().split("\n")) {
            String t = line.strip();
            if (t.isEmpty()) {
                b.append("\n\n");
            } else {
                if (b.length() > 0 && b.charAt(b.length() - 1) != '\n') {
                    b.append(' ');
                }
                b.append(t);
            }
        }
        return b.toString();
    }
}
