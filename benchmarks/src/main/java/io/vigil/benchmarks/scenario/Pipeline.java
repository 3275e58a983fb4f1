package io.vigil.benchmarks.scenario;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends a fixed number of asynchronous requests with at most {@code maxInFlight} outstanding,
 * for unmeasured setup (pre-fill, lease grants). Fails on the first error or after
 * {@code timeoutMs}.
 */
public final class Pipeline {
  private Pipeline() {}

  public static void run(long count, int maxInFlight, long timeoutMs, AsyncRequest request)
      throws InterruptedException {
    Semaphore permits = new Semaphore(maxInFlight);
    AtomicReference<Throwable> firstError = new AtomicReference<>();
    long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    for (long i = 0; i < count && firstError.get() == null; i++) {
      if (!permits.tryAcquire(Math.max(0, deadlineNs - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("setup did not finish " + count + " requests within " + timeoutMs + " ms");
      }
      request.issue((int) (i % maxInFlight), i, new Completion() {
        @Override
        public void succeeded() {
          permits.release();
        }

        @Override
        public void failed(Throwable error) {
          firstError.compareAndSet(null, error);
          permits.release();
        }
      });
    }
    if (!permits.tryAcquire(maxInFlight, Math.max(0, deadlineNs - System.nanoTime()), TimeUnit.NANOSECONDS)) {
      throw new IllegalStateException("setup did not finish " + count + " requests within " + timeoutMs + " ms");
    }
    if (firstError.get() != null) {
      throw new IllegalStateException("setup request failed: " + firstError.get().getMessage(), firstError.get());
    }
  }
}
