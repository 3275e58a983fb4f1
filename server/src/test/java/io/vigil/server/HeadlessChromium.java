package io.vigil.server;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's Chromium, headless, driven over the Chrome DevTools Protocol (a WebSocket, JDK's own
 * client): one page that navigates, evaluates script and takes screenshots. Where Chromium is not
 * installed the calling test is skipped, unless -Dvigil.requireChromium=true (CI) makes that a
 * failure.
 */
final class HeadlessChromium implements AutoCloseable {
    private static final String BINARY = "chromium";
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on ws://([^/]+)/");

    private final Process process;
    private final WebSocket page;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();

    static void assumeInstalled() {
        boolean installed = ReferenceEtcd.onPath(BINARY);
        if (Boolean.getBoolean("vigil.requireChromium") && !installed) {
            throw new IllegalStateException("chromium is required (-Dvigil.requireChromium) but not installed");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(installed, "chromium not installed");
    }

    /** Starts Chromium with an empty profile under {@code profile}, showing about:blank. */
    HeadlessChromium(Path profile) throws IOException, InterruptedException {
        // the background-networking flags keep it from reaching out to Google's hosts
        process = new ProcessBuilder(BINARY, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1000,700", "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String debugHost = debugHost();
        HttpClient http = HttpClient.newHttpClient();
        String targets = http.send(HttpRequest.newBuilder(URI.create("http://" + debugHost + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String pageUrl = null;
        for (JsonElement t : JsonParser.parseString(targets).getAsJsonArray()) {
            if (t.getAsJsonObject().get("type").getAsString().equals("page")) {
                pageUrl = t.getAsJsonObject().get("webSocketDebuggerUrl").getAsString();
            }
        }
        if (pageUrl == null) {
            throw new IllegalStateException("chromium shows no page: " + targets);
        }
        page = http.newWebSocketBuilder().buildAsync(URI.create(pageUrl), new Replies()).join();
    }

    /** Reads Chromium's stderr until it says where its DevTools listen; the rest is drained. */
    private String debugHost() throws IOException {
        BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = err.readLine()) != null) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        err.transferTo(java.io.Writer.nullWriter());
                    } catch (IOException ignored) {
                        // chromium went away
                    }
                }, "chromium-stderr");
                drain.setDaemon(true);
                drain.start();
                return m.group(1);
            }
            seen.append(line).append('\n');
        }
        throw new IllegalStateException("chromium ended before its DevTools listened:\n" + seen);
    }

    /** A DevTools command on the page; its result. */
    JsonObject send(String method, JsonObject params) {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonObject> reply = new CompletableFuture<>();
        pending.put(id, reply);
        JsonObject command = new JsonObject();
        command.addProperty("id", id);
        command.addProperty("method", method);
        command.add("params", params);
        page.sendText(command.toString(), true).join();
        try {
            JsonObject r = reply.get(ClusterClients.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            if (r.has("error")) {
                throw new IllegalStateException(method + " failed: " + r.get("error"));
            }
            return r.getAsJsonObject("result");
        } catch (Exception e) {
            throw new IllegalStateException(method + " got no answer", e);
        }
    }

    void navigate(String url) {
        JsonObject p = new JsonObject();
        p.addProperty("url", url);
        send("Page.navigate", p);
    }

    /** The value of a script expression on the page (a string, number or boolean), as text. */
    String evaluate(String expression) {
        JsonObject p = new JsonObject();
        p.addProperty("expression", expression);
        p.addProperty("returnByValue", true);
        JsonObject r = send("Runtime.evaluate", p);
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException(expression + " threw: " + r.get("exceptionDetails"));
        }
        JsonElement value = r.getAsJsonObject("result").get("value");
        return value == null || value.isJsonNull() ? null : value.getAsString();
    }

    /** Types text into the focused element, as a keyboard would. */
    void type(String text) {
        JsonObject p = new JsonObject();
        p.addProperty("text", text);
        send("Input.insertText", p);
    }

    /** A PNG of the page as shown, written to {@code file}. */
    void screenshot(Path file) throws IOException {
        JsonObject p = new JsonObject();
        p.addProperty("format", "png");
        String data = send("Page.captureScreenshot", p).get("data").getAsString();
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(data));
    }

    @Override
    public void close() throws InterruptedException {
        page.abort();
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    /** Replies to commands, by id (events are not listened to); a message may come in parts. */
    private final class Replies implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                JsonObject m = JsonParser.parseString(text.toString()).getAsJsonObject();
                text.setLength(0);
                if (m.has("id")) {
                    CompletableFuture<JsonObject> reply = pending.remove(m.get("id").getAsInt());
                    if (reply != null) {
                        reply.complete(m);
                    }
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
        }
    }
}
