package io.vigil.server;

import io.vigil.revlog.StoreFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * The command line's work on files, with no member running: {@code vigil snapshot restore},
 * {@code vigil snapshot status} and {@code vigil defrag --data-dir}. Their results go to
 * standard output, as etcdctl's do; mistakes are thrown as {@link ServerFlags.FlagException}
 * (usage) or {@link IllegalArgumentException} (the input), naming the problem.
 */
final class OfflineCommands {
    /** The {@code serve} flags {@code snapshot restore} takes, as etcd's restore takes them. */
    private static final Set<String> RESTORE_FLAGS = Set.of("data-dir", "name", "initial-cluster",
            "initial-cluster-token", "initial-advertise-peer-urls");

    private OfflineCommands() {
    }

    static boolean handles(String command) {
        return command.equals("snapshot") || command.equals("defrag");
    }

    static String usage() {
        return """
                usage:
                  vigil snapshot restore FILE [--data-dir DIR] [--name NAME] [--initial-cluster ...]
                                              [--initial-cluster-token TOKEN] [--initial-advertise-peer-urls URLS]
                                              [--skip-hash-check]
                  vigil snapshot status FILE [--write-out simple|table|json] [--skip-hash-check]
                  vigil defrag --data-dir DIR
                """;
    }

    /** Runs {@code args} (starting with the command's name), printing its result to {@code out}. */
    static void run(String[] args, PrintStream out) {
        List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
        if (args[0].equals("defrag")) {
            defrag(rest, out);
            return;
        }
        if (rest.isEmpty()) {
            throw new ServerFlags.FlagException("snapshot needs a subcommand: restore or status\n\n" + usage());
        }
        String sub = rest.remove(0);
        boolean skipHashCheck = rest.remove("--skip-hash-check");
        if (rest.isEmpty() || rest.get(0).startsWith("-")) {
            throw new ServerFlags.FlagException("snapshot " + sub + " needs the snapshot file's path\n\n" + usage());
        }
        Path file = Path.of(rest.remove(0));
        switch (sub) {
            case "restore" -> restore(file, rest, skipHashCheck, out);
            case "status" -> status(file, rest, skipHashCheck, out);
            default -> throw new ServerFlags.FlagException("unknown snapshot subcommand \"" + sub + "\"\n\n" + usage());
        }
    }

    /**
     * etcd's {@code snapshot restore}: the backup's store, with every key at its revision, becomes
     * the data directory of one member of a new cluster described by the flags (ids derive from
     * them as at a first start). Everything is written in a directory beside the target and
     * renamed to it last, so an interrupted restore leaves no half data directory.
     */
    private static void restore(Path file, List<String> flags, boolean skipHashCheck, PrintStream out) {
        for (int i = 0; i < flags.size(); i++) {
            String f = flags.get(i).replaceFirst("^--?", "").replaceFirst("=.*", "");
            if (!RESTORE_FLAGS.contains(f)) {
                throw new ServerFlags.FlagException("snapshot restore does not take --" + f + "\n\n" + usage());
            }
            if (!flags.get(i).contains("=")) {
                i++;
            }
        }
        ServerConfig config = ServerFlags.parse(flags.toArray(String[]::new));
        Path dataDir = config.dataDir();
        if (Files.exists(dataDir) && !isEmptyDirectory(dataDir)) {
            throw new IllegalArgumentException("data-dir \"" + dataDir + "\" exists");
        }
        long length = BackupFile.verify(file, skipHashCheck);
        StoreFiles.Summary summary = StoreFiles.summarize(file);
        Path staging = dataDir.toAbsolutePath().resolveSibling(dataDir.getFileName() + ".restoring");
        DurableFile.deleteTree(staging);
        try {
            Files.createDirectories(staging);
            Path data = staging.resolve(StoreFiles.DATA_FILE);
            try (InputStream in = Files.newInputStream(file); OutputStream o = Files.newOutputStream(data)) {
                BackupFile.copy(in, length, o, BackupFile.sha256());
            }
            try (FileChannel c = FileChannel.open(data, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            StoreFiles.prepareRestored(staging);
            // a restore bootstraps a new cluster: it never dials a peer
            MemberStart.decide(config.dataDir(staging), true, url -> io.grpc.InsecureChannelCredentials.create());
            Files.deleteIfExists(dataDir);
            DurableFile.rename(staging, dataDir.toAbsolutePath());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore into " + dataDir, e);
        }
        out.printf("restored snapshot %s at revision %d (%d revision records) into %s as member %s (%x) of cluster %x%n",
                file, summary.revision(), summary.totalKeys(), dataDir, config.name(), config.members().named(config.name()).id(),
                config.members().clusterId());
    }

    private static void status(Path file, List<String> flags, boolean skipHashCheck, PrintStream out) {
        String format = "simple";
        for (int i = 0; i < flags.size(); i++) {
            String f = flags.get(i);
            if (f.startsWith("--write-out=") || f.startsWith("-w=")) {
                format = f.substring(f.indexOf('=') + 1);
            } else if ((f.equals("--write-out") || f.equals("-w")) && i + 1 < flags.size()) {
                format = flags.get(++i);
            } else {
                throw new ServerFlags.FlagException("snapshot status does not take " + f + "\n\n" + usage());
            }
        }
        long length = BackupFile.verify(file, skipHashCheck);
        StoreFiles.Summary s = StoreFiles.summarize(file);
        CRC32 crc = new CRC32();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            long left = length;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                crc.update(buf, 0, n);
                left -= n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        String hash = String.format("%x", crc.getValue());
        switch (format) {
            case "simple" -> out.printf("%s, %d, %d, %s%n", hash, s.revision(), s.totalKeys(), siBytes(length));
            case "json" -> out.printf("{\"hash\":%d,\"revision\":%d,\"totalKey\":%d,\"totalSize\":%d}%n",
                    crc.getValue(), s.revision(), s.totalKeys(), length);
            case "table" -> {
                String[] row = {hash, Long.toString(s.revision()), Long.toString(s.totalKeys()), siBytes(length)};
                String[] head = {"HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"};
                StringBuilder line = new StringBuilder("+");
                int[] w = new int[4];
                for (int i = 0; i < 4; i++) {
                    w[i] = Math.max(row[i].length(), head[i].length()) + 2;
                    line.append("-".repeat(w[i])).append('+');
                }
                out.println(line);
                out.println(tableRow(head, w));
                out.println(line);
                out.println(tableRow(row, w));
                out.println(line);
            }
            default -> throw new ServerFlags.FlagException("unknown --write-out \"" + format + "\" (simple, table or json)");
        }
    }

    private static String tableRow(String[] cells, int[] widths) {
        StringBuilder sb = new StringBuilder("|");
        for (int i = 0; i < cells.length; i++) {
            int pad = widths[i] - cells[i].length();
            sb.append(" ".repeat(pad / 2 + pad % 2)).append(cells[i]).append(" ".repeat(pad / 2)).append('|');
        }
        return sb.toString();
    }

    /** Sizes as etcdctl prints them (SI units, one decimal): "8.2 kB", "21 MB". */
    static String siBytes(long n) {
        if (n < 10) {
            return n + " B";
        }
        String[] units = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
        int e = (int) Math.floor(Math.log(n) / Math.log(1000));
        double v = Math.floor(n / Math.pow(1000, e) * 10 + 0.5) / 10;
        return (v < 10 ? String.format("%.1f", v) : String.format("%.0f", v)) + " " + units[e];
    }

    private static void defrag(List<String> flags, PrintStream out) {
        Path dataDir = null;
        for (int i = 0; i < flags.size(); i++) {
            String f = flags.get(i);
            if (f.startsWith("--data-dir=")) {
                dataDir = Path.of(f.substring("--data-dir=".length()));
            } else if (f.equals("--data-dir") && i + 1 < flags.size()) {
                dataDir = Path.of(flags.get(++i));
            } else {
                throw new ServerFlags.FlagException("defrag takes only --data-dir (etcdctl defrag defragments a running member)\n\n"
                        + usage());
            }
        }
        if (dataDir == null) {
            throw new ServerFlags.FlagException("defrag needs --data-dir\n\n" + usage());
        }
        StoreFiles.Defragmented d = StoreFiles.defragment(dataDir);
        out.printf("finished defragmenting %s: %s before, %s after%n", dataDir, siBytes(d.bytesBefore()), siBytes(d.bytesAfter()));
    }

    private static boolean isEmptyDirectory(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
