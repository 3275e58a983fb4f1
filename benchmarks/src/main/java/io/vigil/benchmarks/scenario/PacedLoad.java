package io.vigil.benchmarks.scenario;

import io.vigil.benchmarks.measure.LatencyRecorder;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Open-loop load at a fixed rate: {@code t} ms into a {@link #send} call, {@code rate * t / 1000}
 * requests should have been sent. At most {@code maxInFlight} are outstanding; when the server
 * falls behind, sends are delayed and the shortfall shows as a lower achieved rate. Latency is
 * measured from the actual send and recorded when {@code measuring} said so at send time.
 *
 * <p>A rate of 0 means capacity mode: {@code maxInFlight} closed loops, each sending its next
 * request as soon as the previous one succeeds.
 */
public final class PacedLoad {
  private final int ratePerSecond;
  private final int maxInFlight;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong sequence = new AtomicLong();

  public PacedLoad(int ratePerSecond, int maxInFlight) {
    this.ratePerSecond = ratePerSecond;
    this.maxInFlight = maxInFlight;
  }

  /** Sends for {@code durationMs}; the calling thread paces (and refills after failures). */
  public void send(long durationMs, LatencyRecorder recorder, BooleanSupplier measuring, AsyncRequest request)
      throws InterruptedException {
    Sender sender = new Sender(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(durationMs), recorder, measuring,
        request);
    long startNs = System.nanoTime();
    long issued = 0;
    while (System.nanoTime() < sender.endNs) {
      long due = ratePerSecond == 0 ? Long.MAX_VALUE
          : (System.nanoTime() - startNs) * ratePerSecond / 1_000_000_000L + 1;
      while (issued < due && inFlight.get() < maxInFlight) {
        inFlight.incrementAndGet();
        sender.sendInSlot();
        issued++;
      }
      Thread.sleep(1);
    }
  }

  /** Waits up to {@code timeoutMs} for the requests still in flight. */
  public void awaitReplies(long timeoutMs) throws InterruptedException {
    long endNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (inFlight.get() > 0 && System.nanoTime() < endNs) {
      Thread.sleep(1);
    }
  }

  private final class Sender {
    final long endNs;
    private final LatencyRecorder recorder;
    private final BooleanSupplier measuring;
    private final AsyncRequest request;

    Sender(long endNs, LatencyRecorder recorder, BooleanSupplier measuring, AsyncRequest request) {
      this.endNs = endNs;
      this.recorder = recorder;
      this.measuring = measuring;
      this.request = request;
    }

    /** Sends one request in a slot already counted in {@code inFlight}. */
    void sendInSlot() {
      long sentNs = System.nanoTime();
      boolean measured = measuring.getAsBoolean();
      request.issue(0, sequence.getAndIncrement(), new Completion() {
        @Override
        public void succeeded() {
          if (measured) {
            recorder.recordNs(System.nanoTime() - sentNs);
          }
          if (ratePerSecond == 0 && System.nanoTime() < endNs) {
            sendInSlot(); // capacity mode: the slot passes to the next request (replies come on transport threads)
          } else {
            inFlight.decrementAndGet();
          }
        }

        @Override
        public void failed(Throwable error) {
          if (measured) {
            recorder.recordError(error);
          }
          inFlight.decrementAndGet(); // the pacing thread refills; never re-send inline
        }
      });
    }
  }
}
