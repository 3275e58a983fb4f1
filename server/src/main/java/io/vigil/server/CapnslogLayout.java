package io.vigil.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * etcd 3.4's default (capnslog) line: {@code 2024-05-01 10:00:00.123456 I | vigil: message}: local
 * time to the microsecond, the level's letter (D, I, W, E), the logger's last name, the message;
 * the stack of a failure it carries follows on the next lines.
 */
final class CapnslogLayout extends LayoutBase<ILoggingEvent> {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS").withZone(ZoneId.systemDefault());

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder sb = new StringBuilder(128);
        sb.append(TIME.format(event.getInstant()));
        sb.append(' ').append(letter(event.getLevel())).append(" | ").append(shortName(event.getLoggerName()))
                .append(": ").append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
        if (event.getThrowableProxy() != null) {
            sb.append(ThrowableProxyUtil.asString(event.getThrowableProxy())).append(CoreConstants.LINE_SEPARATOR);
        }
        return sb.toString();
    }

    private static char letter(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> 'E';
            case Level.WARN_INT -> 'W';
            case Level.INFO_INT -> 'I';
            default -> 'D';
        };
    }

    /** The last part of a dotted logger name: "vigil", or a class's simple name. */
    static String shortName(String loggerName) {
        return loggerName.substring(loggerName.lastIndexOf('.') + 1);
    }
}
