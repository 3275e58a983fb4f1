package io.vigil.benchmarks;

import io.vigil.benchmarks.measure.MeasurementWindow;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The live progress line on stderr: on a terminal it is rewritten in place four times a second;
 * otherwise (a pipe, CI) a line is printed every five seconds. Round summaries are whole lines.
 */
final class ProgressLine implements AutoCloseable {
  private final PrintStream out;
  private final boolean terminal;
  private final ScheduledExecutorService ticker;
  private volatile String label = "";
  private volatile MeasurementWindow window;
  private int lastLength;

  ProgressLine(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "progress");
      thread.setDaemon(true);
      return thread;
    });
    long periodMs = terminal ? 250 : 5000;
    ticker.scheduleAtFixedRate(this::tick, periodMs, periodMs, TimeUnit.MILLISECONDS);
  }

  /** Shows {@code label} and, while its window is open, the window's live counters. */
  synchronized void show(String label, MeasurementWindow window) {
    this.label = label;
    this.window = window;
    if (terminal) {
      tick();
    }
  }

  /** Prints a permanent line (clearing the live one first). */
  synchronized void println(String line) {
    clear();
    out.println(line);
  }

  private synchronized void tick() {
    String text = render();
    if (terminal) {
      clear();
      out.print(text);
      lastLength = text.length();
    } else if (!text.isEmpty()) {
      out.println(text);
    }
    out.flush();
  }

  private String render() {
    MeasurementWindow w = window;
    if (w == null || !w.isOpen()) {
      return label.isEmpty() ? "" : label + " …";
    }
    if (!terminal && w.elapsedNs() < 1_000_000_000L) {
      return "";
    }
    double seconds = w.elapsedNs() / 1e9;
    return String.format(Locale.ROOT, "%s  %.1f/%.1f s  %,d ops  %,.0f/s", label, seconds, w.durationMs() / 1000.0,
        w.completedOps(), seconds > 0 ? w.completedOps() / seconds : 0.0);
  }

  private void clear() {
    if (terminal && lastLength > 0) {
      out.print("\r" + " ".repeat(lastLength) + "\r");
      lastLength = 0;
    }
  }

  @Override
  public synchronized void close() {
    ticker.shutdownNow();
    clear();
    out.flush();
  }
}
