package io.vigil.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Where the server process's log lines go: {@code VigilServer.LOG} (a {@link System.Logger}, routed
 * to SLF4J by slf4j-jdk-platform-logging), gRPC's java.util.logging (bridged by jul-to-slf4j) and
 * the shaded Netty's own logging (SLF4J when present) all end in one logback context, written in
 * the format and at the level {@link LogSettings} names. Netty's and gRPC-Netty's transport
 * loggers stay at info or above even at debug: at debug they print every HTTP/2 frame.
 */
final class Logs {
    private static final String[] TRANSPORT_LOGGERS = {"io.grpc.netty.shaded.io.netty", "io.grpc.netty.shaded.io.grpc.netty"};
    /** Frames between the caller and logback: the caller a line names is the first frame outside them. */
    private static final String[] FRAMEWORK_PACKAGES = {"org.slf4j", "java.lang.System", "jdk.internal.logger",
            "sun.util.logging", "java.util.logging", "io.vigil.server.Logs"};

    private Logs() {
    }

    /** Applies {@code settings} to the process's logging, java.util.logging included; from then on. */
    static void configure(LogSettings settings) {
        apply((LoggerContext) LoggerFactory.getILoggerFactory(), settings);
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
        // java.util.logging decides first: records below this never reach the bridge
        java.util.logging.Logger.getLogger("").setLevel(switch (settings.level()) {
            case "debug" -> java.util.logging.Level.FINE;
            case "info" -> java.util.logging.Level.INFO;
            case "warn" -> java.util.logging.Level.WARNING;
            default -> java.util.logging.Level.SEVERE;
        });
    }

    static void apply(LoggerContext context, LogSettings settings) {
        context.reset();
        for (String p : FRAMEWORK_PACKAGES) {
            if (!context.getFrameworkPackages().contains(p)) {
                context.getFrameworkPackages().add(p);
            }
        }
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level level = Level.toLevel(settings.level().equals("warn") ? "WARN" : settings.level().toUpperCase(java.util.Locale.ROOT));
        root.setLevel(level);
        for (String name : TRANSPORT_LOGGERS) {
            context.getLogger(name).setLevel(level.isGreaterOrEqual(Level.INFO) ? level : Level.INFO);
        }
        for (String output : settings.outputs()) {
            root.addAppender(appender(context, output, settings.json() ? new ZapLayout() : new CapnslogLayout()));
        }
    }

    private static Appender<ILoggingEvent> appender(LoggerContext context, String output, LayoutBase<ILoggingEvent> layout) {
        OutputStreamAppender<ILoggingEvent> appender;
        switch (output) {
            case "default", "stderr" -> {
                ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
                console.setTarget("System.err");
                appender = console;
            }
            case "stdout" -> {
                ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
                console.setTarget("System.out");
                appender = console;
            }
            default -> {
                FileAppender<ILoggingEvent> file = new FileAppender<>();
                file.setFile(output);
                file.setAppend(true);
                appender = file;
            }
        }
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        appender.setContext(context);
        appender.setName(output);
        appender.setEncoder(encoder);
        appender.start();
        return appender;
    }
}
