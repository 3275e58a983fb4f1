package io.vigil.benchmarks.scenario;

import io.vigil.benchmarks.measure.LatencyRecorder;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Closed-loop load: {@code clients} independent loops, each with one request in flight, sending
 * the next as soon as the previous completes. Latency is measured from send to completion and
 * recorded only while the window is open. After the window closes no new request is sent and
 * the driver waits (bounded) for the ones in flight.
 */
public final class ClosedLoopDriver {
  private static final long RETRY_AFTER_ERROR_MS = 10;

  private final int clients;
  private final long drainTimeoutMs;

  public ClosedLoopDriver(int clients, long drainTimeoutMs) {
    this.clients = clients;
    this.drainTimeoutMs = drainTimeoutMs;
  }

  public Measure run(MeasurementWindow window, LatencyRecorder recorder, AsyncRequest request)
      throws InterruptedException {
    ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor();
    Loop loop = new Loop(window, recorder, request, retries);
    try {
      for (int client = 0; client < clients; client++) {
        loop.issue(client);
      }
      window.sleepWarmup();
      recorder.reset();
      window.open();
      window.awaitEnd();
      window.close();
      loop.stop();
      Measure measure = recorder.toMeasure(window.elapsedNs());
      loop.awaitDrained(drainTimeoutMs);
      return measure;
    } finally {
      loop.stop();
      retries.shutdownNow();
    }
  }

  /** The shared state of all client loops. */
  private static final class Loop {
    private final MeasurementWindow window;
    private final LatencyRecorder recorder;
    private final AsyncRequest request;
    private final ScheduledExecutorService retries;
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean stopped;

    Loop(MeasurementWindow window, LatencyRecorder recorder, AsyncRequest request, ScheduledExecutorService retries) {
      this.window = window;
      this.recorder = recorder;
      this.request = request;
      this.retries = retries;
    }

    void issue(int client) {
      if (stopped) {
        return;
      }
      inFlight.incrementAndGet();
      long sentNs = System.nanoTime();
      request.issue(client, sequence.getAndIncrement(), new Completion() {
        @Override
        public void succeeded() {
          if (window.isOpen()) {
            recorder.recordNs(System.nanoTime() - sentNs);
          }
          inFlight.decrementAndGet();
          issue(client);
        }

        @Override
        public void failed(Throwable error) {
          if (window.isOpen()) {
            recorder.recordError(error);
          }
          inFlight.decrementAndGet();
          // never re-issue inline: a request may fail synchronously inside issue()
          if (!stopped && !retries.isShutdown()) {
            retries.schedule(() -> issue(client), RETRY_AFTER_ERROR_MS, TimeUnit.MILLISECONDS);
          }
        }
      });
    }

    void stop() {
      stopped = true;
    }

    void awaitDrained(long timeoutMs) throws InterruptedException {
      long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      while (inFlight.get() > 0 && System.nanoTime() < deadlineNs) {
        Thread.sleep(5);
      }
    }
  }
}
