package io.vigil.benchmarks.measure;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The measured part of one round. A scenario warms up, calls {@link #open()}, drives load until
 * {@link #awaitEnd()} returns (duration reached or operation budget spent), then {@link #close()}.
 * Opening and closing tell the {@link Listener} (server CPU/RSS sampling) and the live progress
 * line; latencies recorded outside the window are the scenario's business to drop.
 */
public final class MeasurementWindow {
  /** Told when the measured interval starts and ends. */
  public interface Listener {
    void opened();

    void closed();
  }

  private final long warmupMs;
  private final long durationMs;
  private final long maxOps;
  private final Listener listener;
  private final LongAdder progress = new LongAdder();
  private volatile long openedNs;
  private volatile long closedNs;
  private volatile boolean open;

  public MeasurementWindow(long warmupMs, long durationMs, long maxOps, Listener listener) {
    this.warmupMs = warmupMs;
    this.durationMs = durationMs;
    this.maxOps = maxOps;
    this.listener = listener;
  }

  /** A recorder whose completions count on the progress line when {@code countsProgress}. */
  public LatencyRecorder recorder(String name, boolean countsProgress) {
    return new LatencyRecorder(name, countsProgress ? progress : null);
  }

  /** Counts {@code n} completed operations on the progress line (for work no recorder times). */
  public void addProgress(long n) {
    progress.add(n);
  }

  public void sleepWarmup() throws InterruptedException {
    TimeUnit.MILLISECONDS.sleep(warmupMs);
  }

  public void open() {
    progress.reset();
    openedNs = System.nanoTime();
    open = true;
    listener.opened();
  }

  /** Blocks until the window has lasted {@code durationMs} or {@code maxOps} operations completed. */
  public void awaitEnd() throws InterruptedException {
    long endNs = openedNs + TimeUnit.MILLISECONDS.toNanos(durationMs);
    while (System.nanoTime() < endNs && progress.sum() < maxOps) {
      long leftMs = TimeUnit.NANOSECONDS.toMillis(endNs - System.nanoTime());
      Thread.sleep(Math.max(1, Math.min(20, leftMs)));
    }
  }

  public void close() {
    if (!open) {
      return;
    }
    open = false;
    closedNs = System.nanoTime();
    listener.closed();
  }

  public boolean isOpen() {
    return open;
  }

  public long openedNs() {
    return openedNs;
  }

  /** Length of the window: so far while open, final once closed. */
  public long elapsedNs() {
    return (open ? System.nanoTime() : closedNs) - openedNs;
  }

  public long completedOps() {
    return progress.sum();
  }

  public long durationMs() {
    return durationMs;
  }

  public long maxOps() {
    return maxOps;
  }
}
