package io.vigil.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * etcd's {@code --logger zap} line: one JSON object per event, in zap's production shape,
 * {@code {"level":"info","ts":"2024-05-01T10:00:00.123Z","caller":"server/Main.java:97","msg":"..."}}
 * (ISO-8601 local time to the millisecond, the caller as zap's short caller: package's last
 * name/file:line). A logger other than the server's own is named in {@code "logger"}; a failure in
 * {@code "error"} (its message) and {@code "stacktrace"}. Never more than one line per event.
 */
final class ZapLayout extends LayoutBase<ILoggingEvent> {
    private static final DateTimeFormatter TS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneId.systemDefault());

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder sb = new StringBuilder(160);
        sb.append("{\"level\":\"").append(level(event.getLevel())).append('"');
        sb.append(",\"ts\":\"").append(TS.format(event.getInstant()).replace("+0000", "Z")).append('"');
        StackTraceElement[] caller = event.getCallerData();
        if (caller != null && caller.length > 0) {
            field(sb, "caller", shortCaller(caller[0]));
        }
        if (!event.getLoggerName().equals("vigil")) {
            field(sb, "logger", event.getLoggerName());
        }
        field(sb, "msg", event.getFormattedMessage());
        if (event.getThrowableProxy() != null) {
            field(sb, "error", event.getThrowableProxy().getClassName() + ": " + event.getThrowableProxy().getMessage());
            field(sb, "stacktrace", ThrowableProxyUtil.asString(event.getThrowableProxy()));
        }
        return sb.append('}').append(CoreConstants.LINE_SEPARATOR).toString();
    }

    static String level(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> "error";
            case Level.WARN_INT -> "warn";
            case Level.INFO_INT -> "info";
            default -> "debug";
        };
    }

    /** zap's short caller: {@code server/VigilServer.java:312} for io.vigil.server.VigilServer. */
    static String shortCaller(StackTraceElement e) {
        String cls = e.getClassName();
        int lastDot = cls.lastIndexOf('.');
        String pkg = lastDot < 0 ? "" : cls.substring(0, lastDot);
        String dir = pkg.substring(pkg.lastIndexOf('.') + 1);
        String file = e.getFileName() == null ? cls.substring(lastDot + 1) : e.getFileName();
        return (dir.isEmpty() ? "" : dir + "/") + file + ":" + e.getLineNumber();
    }

    private static void field(StringBuilder sb, String name, String value) {
        sb.append(",\"").append(name).append("\":\"");
        escape(sb, value == null ? "" : value);
        sb.append('"');
    }

    /** JSON string escaping (RFC 8259): quote, backslash and every control character. */
    static void escape(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
    }
}
