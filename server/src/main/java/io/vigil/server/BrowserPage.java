package io.vigil.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The page served at {@code GET /} on the client port: the member's status and members, and a
 * live watch of a prefix the user types (over {@link GatewaySse}), as one HTML file with a little
 * script, shipped in the jar ({@code page.html} beside this class). {@code /?prefix=P} starts
 * watching P at once.
 */
final class BrowserPage {
    static final String HTML = load("page.html");

    private BrowserPage() {
    }

    private static String load(String name) {
        try (InputStream in = BrowserPage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
