package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * etcd's log flags on a real server process: {@code --logger zap} prints one JSON object per line
 * in zap's shape, {@code --log-level} filters (the libraries' logs too), the default is
 * capnslog's text line, and a bad value is refused naming the flag.
 */
class LogFlagsTest {
    private static final Set<String> LEVELS = Set.of("debug", "info", "warn", "error");
    private static final Pattern CAPNSLOG = Pattern.compile(
            "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} [DIWE] \\| [\\w$]+: .*");

    @TempDir
    Path dir;

    @Test
    void zapAtDebugPrintsOnlyJsonLinesWithLevelTimeCallerAndMessage() throws Exception {
        List<String> lines;
        try (VigilProcess vigil = VigilProcess.start(dir, "--logger", "zap", "--log-level", "debug")) {
            EtcdMetricsTest.put(vigil.endpoint(), "k", "v");
            lines = vigil.output();
        }
        assertFalse(lines.isEmpty());
        boolean debug = false;
        boolean ready = false;
        for (String line : lines) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            String level = o.get("level").getAsString();
            assertTrue(LEVELS.contains(level), line);
            assertTrue(o.get("ts").getAsString().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d{4})"), line);
            assertTrue(o.has("msg") && o.has("caller"), line);
            debug |= level.equals("debug");
            if (o.get("msg").getAsString().startsWith("ready to serve client requests on http://")) {
                ready = true;
                assertEquals("info", level);
                assertTrue(o.get("caller").getAsString().startsWith("server/Main.java:"), line);
            }
        }
        assertTrue(ready, String.join("\n", lines));
        // gRPC's own java.util.logging debug lines come through the same JSON layout
        assertTrue(debug, String.join("\n", lines));
    }

    @Test
    void warnLevelLeavesInfoLinesOut() throws Exception {
        int port = VigilCluster.freePort();
        List<String> lines;
        // a test fault is announced as a WARN at start: a line to wait for that the level lets through
        try (VigilProcess vigil = VigilProcess.startQuiet(dir, port, Pattern.compile("watch-skip-revision"),
                "--logger", "zap", "--log-level", "warn", "--experimental-test-fault", "watch-skip-revision")) {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .untilAsserted(() -> EtcdMetricsTest.put(vigil.endpoint(), "k", "v"));
            lines = vigil.output();
        }
        assertFalse(lines.isEmpty());
        for (String line : lines) {
            String level = JsonParser.parseString(line).getAsJsonObject().get("level").getAsString();
            assertTrue(level.equals("warn") || level.equals("error"), line);
        }
    }

    @Test
    void theDefaultIsCapnslogTextAtInfo() throws Exception {
        List<String> lines;
        try (VigilProcess vigil = VigilProcess.start(dir)) {
            lines = vigil.output();
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains(" I | vigil: ready to serve client requests on http://")),
                String.join("\n", lines));
        for (String line : lines) {
            assertTrue(CAPNSLOG.matcher(line).matches(), line);
            assertFalse(line.contains(" D | "), line);
        }
    }

    @Test
    void badValuesAreRefusedNamingTheFlag() {
        ServerFlags.FlagException e = org.junit.jupiter.api.Assertions.assertThrows(ServerFlags.FlagException.class,
                () -> ServerFlags.parse(new String[] {"--logger", "json"}));
        assertEquals("invalid value \"json\" for flag --logger: unknown logger option \"json\"", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(ServerFlags.FlagException.class,
                () -> ServerFlags.parse(new String[] {"--log-level=verbose"}));
        assertTrue(e.getMessage().startsWith("invalid value \"verbose\" for flag --log-level: "), e.getMessage());
        assertEquals(List.of("stderr", "/tmp/x.log"),
                ServerFlags.parse(new String[] {"--log-outputs", "stderr,/tmp/x.log"}).logs().outputs());
    }
}
