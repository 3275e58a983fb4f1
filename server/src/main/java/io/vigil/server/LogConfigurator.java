package io.vigil.server;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Found by logback through {@code META-INF/services}: any JVM with the server on its class path
 * logs as {@link LogSettings#DEFAULT} until {@link Logs#configure} says otherwise (without it,
 * logback would print everything, at debug, in its own format).
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        Logs.apply(context, LogSettings.DEFAULT);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
