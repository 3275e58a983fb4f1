package io.vigil.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * What tells a file's version without reading it: modification time, size and identity (inode),
 * so that a file rewritten in place and one replaced by a rename both count as changed. A file
 * that cannot be read stamps as absent.
 */
record FileStamp(List<Object> parts) {
    static FileStamp of(Path... files) {
        List<Object> parts = new ArrayList<>();
        for (Path f : files) {
            try {
                BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                parts.add(a.lastModifiedTime());
                parts.add(a.size());
                parts.add(String.valueOf(a.fileKey()));
            } catch (IOException e) {
                parts.add("absent");
            }
        }
        return new FileStamp(List.copyOf(parts));
    }
}
