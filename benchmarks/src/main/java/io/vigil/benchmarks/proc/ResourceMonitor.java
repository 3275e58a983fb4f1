package io.vigil.benchmarks.proc;

import io.vigil.benchmarks.measure.ResourceUsage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures one process tree over an interval: CPU seconds as the difference of two samples,
 * peak RSS as the highest of periodic samples taken every {@code intervalMs} in between.
 * Without a pid (a server the harness did not start and was given no pid for) or without /proc,
 * usage is {@link ResourceUsage#UNKNOWN}.
 */
public final class ResourceMonitor implements AutoCloseable {
  private final ProcFs procFs;
  private final long intervalMs;
  private final boolean withDescendants;
  private final ScheduledExecutorService sampler;
  private long pid = -1;
  private ProcessSample start;
  private final AtomicLong peakRssBytes = new AtomicLong();
  private ScheduledFuture<?> periodic;

  /** @param withDescendants sample the process's whole tree (a server) or the process alone (this JVM) */
  public ResourceMonitor(ProcFs procFs, long intervalMs, boolean withDescendants) {
    this.procFs = procFs;
    this.intervalMs = intervalMs;
    this.withDescendants = withDescendants;
    this.sampler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "proc-sampler");
      thread.setDaemon(true);
      return thread;
    });
  }

  /** Starts measuring {@code pid}'s tree; a negative pid means "unknown". */
  public synchronized void start(long pid) {
    this.pid = pid;
    peakRssBytes.set(0);
    if (pid < 0 || procFs == null) {
      return;
    }
    start = sample();
    peakRssBytes.set(start.rssBytes());
    periodic = sampler.scheduleAtFixedRate(() -> {
      try {
        peakRssBytes.accumulateAndGet(sample().rssBytes(), Math::max);
      } catch (RuntimeException e) {
        // the server may be exiting; the closing sample reports the failure
      }
    }, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
  }

  public synchronized ResourceUsage stop() {
    if (pid < 0 || procFs == null) {
      return ResourceUsage.UNKNOWN;
    }
    periodic.cancel(false);
    ProcessSample end = sample();
    long peak = Math.max(peakRssBytes.get(), end.rssBytes());
    pid = -1;
    return new ResourceUsage(procFs.ticksToSeconds(end.cpuTicks() - start.cpuTicks()), peak);
  }

  private ProcessSample sample() {
    try {
      return withDescendants ? procFs.sampleTree(pid) : procFs.sampleProcess(pid);
    } catch (IOException e) {
      throw new UncheckedIOException("sampling /proc for pid " + pid, e);
    }
  }

  @Override
  public void close() {
    sampler.shutdownNow();
  }
}
