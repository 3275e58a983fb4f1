package io.vigil.server;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page at / in a real headless Chromium against a real server: it shows the member's status,
 * a user types a prefix and watches it, and a put (then a delete) made with etcdctl appears on
 * the page through its server-sent events. A screenshot is kept in
 * {@code target/screenshots/browser-page.png}.
 */
class BrowserPageTest {
    private static final Path SCREENSHOT = Path.of("target", "screenshots", "browser-page.png");
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G'};

    @TempDir
    Path tmp;

    @Test
    void aPutAppearsOnThePageWatchingItsPrefix() throws Exception {
        HeadlessChromium.assumeInstalled();
        try (VigilProcess vigil = VigilProcess.start(tmp.resolve("vigil"));
             HeadlessChromium chromium = new HeadlessChromium(tmp.resolve("profile"))) {
            String e = vigil.endpoint();
            chromium.navigate("http://" + e + "/");
            waitFor(chromium, "document.querySelector('#status').textContent.includes('raft term')");
            // one member: it leads itself
            assertEquals(statusRow(chromium, "member id"), statusRow(chromium, "leader"));

            chromium.evaluate("document.getElementById('prefix').focus()");
            chromium.type("app/");
            chromium.evaluate("document.getElementById('watch').click()");
            waitFor(chromium, "document.getElementById('watch-state').textContent.startsWith('watching from revision')");

            assertEquals(0, Etcdctl.run(e, null, "put", "app/greeting", "hello from etcdctl").exitCode());
            assertEquals(0, Etcdctl.run(e, null, "put", "elsewhere", "not watched").exitCode());
            waitFor(chromium, "document.querySelector('#events tbody').textContent.includes('hello from etcdctl')");
            assertEquals(0, Etcdctl.run(e, null, "del", "app/greeting").exitCode());
            waitFor(chromium, "document.querySelector('#events tbody tr.DELETE') !== null");

            String rows = chromium.evaluate("Array.from(document.querySelectorAll('#events tbody tr'))"
                    + ".map(tr => Array.from(tr.cells).slice(1).map(td => td.textContent).join(' ')).join('\\n')");
            assertEquals("DELETE app/greeting \nPUT app/greeting hello from etcdctl", rows);

            chromium.screenshot(SCREENSHOT);
            assertArrayEquals(PNG, Arrays.copyOf(Files.readAllBytes(SCREENSHOT), 4));
        }
    }

    /** The value shown in the status table's row {@code name}. */
    private static String statusRow(HeadlessChromium chromium, String name) {
        return chromium.evaluate("Array.from(document.querySelectorAll('#status tr'))"
                + ".find(tr => tr.cells[0].textContent === '" + name + "').cells[1].textContent");
    }

    /** Waits (as a hang guard, not a timing) until a script condition on the page holds. */
    private static void waitFor(HeadlessChromium chromium, String condition) {
        await().atMost(ClusterClients.PATIENCE).pollInterval(Duration.ofMillis(50))
                .until(() -> "true".equals(chromium.evaluate("String(" + condition + ")")));
    }
}
