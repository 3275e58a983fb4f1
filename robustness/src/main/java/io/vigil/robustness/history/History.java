package io.vigil.robustness.history;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.vigil.proto.history.FaultRecord;
import io.vigil.proto.history.HistoryEntry;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.WatchRecord;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's record, as the checkers read it: every client operation, every watch record and every
 * fault, each list in the order it was recorded. Stored as JSON lines, one {@link HistoryEntry} a
 * line, so a person can read it and a later run of the checkers can judge it again.
 */
public record History(List<Operation> operations, List<WatchRecord> watches, List<FaultRecord> faults) {
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();

    public History {
        operations = List.copyOf(operations);
        watches = List.copyOf(watches);
        faults = List.copyOf(faults);
    }

    public static History of(List<HistoryEntry> entries) {
        List<Operation> operations = new ArrayList<>();
        List<WatchRecord> watches = new ArrayList<>();
        List<FaultRecord> faults = new ArrayList<>();
        for (HistoryEntry e : entries) {
            switch (e.getEntryCase()) {
                case OPERATION -> operations.add(e.getOperation());
                case WATCH -> watches.add(e.getWatch());
                case FAULT -> faults.add(e.getFault());
                case ENTRY_NOT_SET -> throw new IllegalArgumentException("empty history entry");
            }
        }
        return new History(operations, watches, faults);
    }

    public List<HistoryEntry> entries() {
        List<HistoryEntry> entries = new ArrayList<>(operations.size() + watches.size() + faults.size());
        operations.forEach(o -> entries.add(HistoryEntry.newBuilder().setOperation(o).build()));
        watches.forEach(w -> entries.add(HistoryEntry.newBuilder().setWatch(w).build()));
        faults.forEach(f -> entries.add(HistoryEntry.newBuilder().setFault(f).build()));
        return entries;
    }

    public void write(Path file) {
        try (BufferedWriter out = Files.newBufferedWriter(file)) {
            for (HistoryEntry e : entries()) {
                out.write(PRINTER.print(e));
                out.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static History read(Path file) {
        try {
            List<HistoryEntry> entries = new ArrayList<>();
            int lineNumber = 0;
            for (String line : Files.readAllLines(file)) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                HistoryEntry.Builder b = HistoryEntry.newBuilder();
                try {
                    PARSER.merge(line, b);
                } catch (InvalidProtocolBufferException e) {
                    throw new IllegalArgumentException(file + ":" + lineNumber + ": " + e.getMessage(), e);
                }
                entries.add(b.build());
            }
            return of(entries);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
