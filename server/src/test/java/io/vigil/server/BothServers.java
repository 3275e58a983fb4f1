package io.vigil.server;

import java.nio.file.Path;

/**
 * A differential test's frame: the same session against a fresh real etcd 3.4 and a fresh Vigil
 * process, both at revision 1 (the test is skipped where etcd is not installed, unless CI requires
 * it). Each session gets the client endpoint of its server.
 */
final class BothServers {
    interface Session<T> {
        T run(String endpoint) throws Exception;
    }

    record Results<T>(T etcd, T vigil) {
    }

    private BothServers() {
    }

    static <T> Results<T> run(Path tmp, Session<T> session) throws Exception {
        return run(tmp, new String[0], session);
    }

    /** As {@link #run(Path, Session)}, with {@code flags} given to both servers (etcd's names). */
    static <T> Results<T> run(Path tmp, String[] flags, Session<T> session) throws Exception {
        ReferenceEtcd.assumeInstalled();
        try (ReferenceEtcd etcd = ReferenceEtcd.start(tmp, flags); VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"), flags)) {
            return new Results<>(session.run(etcd.endpoint()), session.run(vigil.endpoint()));
        }
    }
}
