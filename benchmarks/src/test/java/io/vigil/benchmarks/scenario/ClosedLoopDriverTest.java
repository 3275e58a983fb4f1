package io.vigil.benchmarks.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Drives fake requests that complete on another thread, as gRPC callbacks do. */
class ClosedLoopDriverTest {
  private final ExecutorService transport = Executors.newFixedThreadPool(2);
  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicInteger closed = new AtomicInteger();
  private final MeasurementWindow.Listener listener = new MeasurementWindow.Listener() {
    @Override
    public void opened() {
      opened.incrementAndGet();
    }

    @Override
    public void closed() {
      closed.incrementAndGet();
    }
  };

  @AfterEach
  void stopTransport() {
    transport.shutdownNow();
  }

  @Test
  void stopsAtTheOperationBudgetAndLeavesNothingInFlight() throws InterruptedException {
    AtomicInteger inFlight = new AtomicInteger();
    AsyncRequest request = (client, seq, done) -> {
      inFlight.incrementAndGet();
      transport.execute(() -> {
        inFlight.decrementAndGet();
        done.succeeded();
      });
    };
    // a budget of 500 ops ends the round long before the 60 s duration
    MeasurementWindow window = new MeasurementWindow(0, 60_000, 500, listener);
    Measure measure = new ClosedLoopDriver(4, 5_000).run(window, window.recorder("op", true), request);

    assertTrue(measure.count() >= 500, "count " + measure.count());
    assertEquals(0, measure.errors());
    assertEquals(0, inFlight.get());
    assertEquals(1, opened.get());
    assertEquals(1, closed.get());
  }

  @Test
  void countsFailuresAndFailsWhenNothingSucceeds() {
    AsyncRequest failing = (client, seq, done) -> transport.execute(
        () -> done.failed(new IllegalStateException("UNIMPLEMENTED")));
    MeasurementWindow window = new MeasurementWindow(0, 100, 1_000_000, listener);
    var error = assertThrows(IllegalStateException.class,
        () -> new ClosedLoopDriver(2, 1_000).run(window, window.recorder("put", true), failing));
    assertTrue(error.getMessage().startsWith("all "), error.getMessage());
    assertTrue(error.getMessage().endsWith(" put requests failed; first error: UNIMPLEMENTED"), error.getMessage());
  }
}
