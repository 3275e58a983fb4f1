package io.vigil.server;

import java.util.concurrent.ThreadFactory;

/** The member's background threads: named for thread dumps, and daemons, so none keeps a stopped JVM alive. */
final class DaemonThreads {
    private DaemonThreads() {
    }

    static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
