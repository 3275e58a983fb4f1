package io.vigil.test;

import io.vigil.client.VigilClient;
import io.vigil.client.VigilException;
import io.vigil.server.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Vigil in the test's own JVM, for tests of code that uses etcd's API: one member, or a cluster of
 * several, on free loopback ports with a temporary data directory, ready (a leader elected)
 * before the first test, removed after the last.
 *
 * <pre>{@code
 * class RegistryTest {
 *     @RegisterExtension
 *     static final VigilExtension vigil = VigilExtension.singleMember();   // or cluster(3)
 *
 *     @Test
 *     void registers(VigilClient client) {                 // or vigil.client(), vigil.endpoints()
 *         client.kv().put("services/api", "10.0.0.7:8080");
 *     }
 * }
 * }</pre>
 *
 * Registered in a static field, or with {@code @ExtendWith(VigilExtension.class)} (one member),
 * it serves the whole class; in an instance field each test gets a fresh one. Test parameters of
 * type {@link VigilClient} get the extension's client.
 *
 * <p>Vigil's store (LMDB through lmdbjava) needs the test JVM started with
 * {@code --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED}
 * (Maven: surefire's {@code argLine}); without them the extension refuses to start, saying so.
 */
public final class VigilExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback,
        ParameterResolver {
    private static final long READY_PATIENCE_MS = 60_000;

    private final int members;
    private final List<InProcessMember> running = new ArrayList<>();
    private boolean perClass;
    private Path dataDir;
    private VigilClient client;

    /** One member (what {@code @ExtendWith(VigilExtension.class)} gives). */
    public VigilExtension() {
        this(1);
    }

    private VigilExtension(int members) {
        if (members < 1) {
            throw new IllegalArgumentException("a cluster has at least one member");
        }
        this.members = members;
    }

    public static VigilExtension singleMember() {
        return new VigilExtension(1);
    }

    /** A cluster of {@code members} voting members (3 or 5 are the usual sizes). */
    public static VigilExtension cluster(int members) {
        return new VigilExtension(members);
    }

    /** A client of every member, shared by the tests (do not close it). */
    public VigilClient client() {
        requireStarted();
        return client;
    }

    /** The members' client endpoints, {@code 127.0.0.1:PORT}, in member order. */
    public List<String> endpoints() {
        requireStarted();
        return memberEndpoints();
    }

    private List<String> memberEndpoints() {
        return running.stream().map(InProcessMember::endpoint).toList();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        perClass = true;
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!perClass) {
            start();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (!perClass) {
            stop();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == VigilClient.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return client();
    }

    private void start() {
        requireOpens();
        try {
            dataDir = Files.createTempDirectory("vigil-test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Integer> peerPorts = new ArrayList<>();
        StringJoiner initialCluster = new StringJoiner(",");
        for (int i = 0; i < members; i++) {
            int port = freePort();
            peerPorts.add(port);
            initialCluster.add("m" + i + "=http://127.0.0.1:" + port);
        }
        for (int i = 0; i < members; i++) {
            URI peer = URI.create("http://127.0.0.1:" + peerPorts.get(i));
            running.add(new InProcessMember(new ServerConfig().name("m" + i).dataDir(dataDir.resolve("m" + i))
                    .listenClientUrls(List.of(URI.create("http://127.0.0.1:0")))
                    .listenPeerUrls(List.of(peer)).initialAdvertisePeerUrls(List.of(peer))
                    .initialCluster(initialCluster.toString())));
        }
        client = VigilClient.builder().endpoints(memberEndpoints()).build();
        awaitLeader();
    }

    /** Until a linearizable read succeeds: a leader is elected and this member knows it. */
    private void awaitLeader() {
        long deadline = System.currentTimeMillis() + READY_PATIENCE_MS;
        while (true) {
            try {
                client.kv().get("health"); // what etcd's own health check reads
                return;
            } catch (VigilException e) {
                boolean noLeaderYet = e.code() == VigilException.Code.UNAVAILABLE || e.code() == VigilException.Code.DEADLINE_EXCEEDED;
                if (!noLeaderYet || System.currentTimeMillis() > deadline) {
                    stop();
                    throw new IllegalStateException("Vigil elected no leader within " + READY_PATIENCE_MS + " ms", e);
                }
            }
        }
    }

    private void stop() {
        if (client != null) {
            client.close();
            client = null;
        }
        for (InProcessMember m : running) {
            m.close();
        }
        running.clear();
        if (dataDir != null) {
            deleteTree(dataDir);
            dataDir = null;
        }
    }

    private void requireStarted() {
        if (client == null) {
            throw new IllegalStateException("Vigil is not running: register the extension with @RegisterExtension or "
                    + "@ExtendWith, and use it inside tests");
        }
    }

    private static void requireOpens() {
        Module unnamed = VigilExtension.class.getClassLoader().getUnnamedModule();
        if (!ByteBuffer.class.getModule().isOpen("java.nio", unnamed)) {
            throw new IllegalStateException("Vigil's store needs the test JVM started with --add-opens "
                    + "java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED "
                    + "(Maven: surefire's argLine)");
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
