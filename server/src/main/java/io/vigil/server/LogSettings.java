package io.vigil.server;

import java.util.List;
import java.util.Locale;

/**
 * etcd 3.4's log flags, checked: {@code --logger} ({@code capnslog}, etcd 3.4's default: one text
 * line per event; {@code zap}: one JSON object per line), {@code --log-level} and
 * {@code --log-outputs} ({@code default} and {@code stderr} are standard error, {@code stdout},
 * or a file path). Free of any logging library, so a configuration can be checked anywhere;
 * {@link Logs} applies it.
 */
record LogSettings(String logger, String level, List<String> outputs) {
    static final String CAPNSLOG = "capnslog";
    static final String ZAP = "zap";
    static final LogSettings DEFAULT = new LogSettings(CAPNSLOG, "info", List.of("default"));
    private static final List<String> LEVELS = List.of("debug", "info", "warn", "error");

    LogSettings {
        outputs = List.copyOf(outputs);
    }

    /** etcd's message for a logger it does not know. */
    LogSettings withLogger(String name) {
        if (!name.equals(CAPNSLOG) && !name.equals(ZAP)) {
            throw new IllegalArgumentException("unknown logger option \"" + name + "\"");
        }
        return new LogSettings(name, level, outputs);
    }

    LogSettings withLevel(String name) {
        String l = name.toLowerCase(Locale.ROOT);
        if (!LEVELS.contains(l)) {
            throw new IllegalArgumentException("unknown level \"" + name + "\" (debug, info, warn or error)");
        }
        return new LogSettings(logger, l, outputs);
    }

    /** Comma-separated outputs, as etcd's flag takes them. */
    LogSettings withOutputs(String list) {
        List<String> out = new java.util.ArrayList<>();
        for (String o : list.split(",", -1)) {
            String t = o.trim();
            if (t.isEmpty()) {
                throw new IllegalArgumentException("an empty output");
            }
            if (!out.contains(t)) {
                out.add(t);
            }
        }
        return new LogSettings(logger, level, out);
    }

    boolean json() {
        return logger.equals(ZAP);
    }
}
