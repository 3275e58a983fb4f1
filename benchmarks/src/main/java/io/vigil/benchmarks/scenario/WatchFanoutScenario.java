package io.vigil.benchmarks.scenario;

import com.google.protobuf.ByteString;
import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.LatencyRecorder;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.mvccpb.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code watch-fanout}: {@code --watchers} watchers on {@code --watch-streams} streams, watcher
 * i on key {@code i mod --watch-keys}; writers put those keys round-robin at
 * {@code --watch-put-rate}. Headline: events delivered per second and put-to-delivery latency
 * (each value carries its send time). Events of measured puts still missing after the drain
 * count as errors ("lost or late").
 */
final class WatchFanoutScenario implements Scenario {
  private final BenchConfig config;
  private final Keys keys;
  private final int[] watchersOnKey;

  WatchFanoutScenario(BenchConfig config, String prefix) {
    this.config = config;
    this.keys = new Keys(prefix, config.keySizeBytes, config.watchKeys);
    this.watchersOnKey = new int[config.watchKeys];
    for (int w = 0; w < config.watchers; w++) {
      watchersOnKey[w % config.watchKeys]++;
    }
  }

  @Override
  public String name() {
    return "watch-fanout";
  }

  @Override
  public String describe() {
    return config.watchers + " watchers on " + config.watchStreams + " streams over " + config.connections
        + " connections, " + config.watchKeys + " keys, " + config.watchWriters + " writers at "
        + config.watchPutRate + " puts/s, value " + config.valueSizeBytes + " B"
        + (config.watchPrevKv ? ", watchers ask for prev_kv" : "");
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws InterruptedException {
    LatencyRecorder puts = window.recorder("put", false);
    LatencyRecorder deliveries = window.recorder("delivery", true);
    Delivery delivery = new Delivery(deliveries);
    List<WatchStream> streams = openWatchers(server, delivery);
    try {
      AtomicLong expected = new AtomicLong();
      PacedLoad load = new PacedLoad(config.watchPutRate, config.watchWriters);
      AsyncRequest put = stampedPut(server, window, expected);
      load.send(config.warmupMs, puts, window::isOpen, put);
      load.awaitReplies(config.rpcTimeoutMs);
      window.open();
      puts.reset();
      deliveries.reset();
      long sendStartNs = System.nanoTime();
      load.send(config.durationMs, puts, window::isOpen, put);
      long sendNs = System.nanoTime() - sendStartNs;
      load.awaitReplies(config.rpcTimeoutMs);
      delivery.await(expected.get(), config.drainMs);
      window.close();
      deliveries.recordErrors(expected.get() - delivery.count(), "events lost or later than --drain-ms");
      if (delivery.failure() != null) {
        throw new IllegalStateException(delivery.failure());
      }
      long deliveryNs = Math.max(delivery.lastNs() - window.openedNs(), sendNs);
      return List.of(deliveries.toMeasure(deliveryNs), puts.toMeasure(sendNs));
    } finally {
      streams.forEach(WatchStream::close);
    }
  }

  private List<WatchStream> openWatchers(EtcdConnection server, Delivery delivery) throws InterruptedException {
    List<WatchStream> streams = new ArrayList<>();
    for (int s = 0; s < config.watchStreams; s++) {
      streams.add(new WatchStream(server.watch(s), delivery));
    }
    for (int w = 0; w < config.watchers; w++) {
      streams.get(w % config.watchStreams).create(w, keys.key(w % config.watchKeys), ByteString.EMPTY, 0, config.watchPrevKv);
    }
    long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.rpcTimeoutMs);
    while (!delivery.created.await(20, TimeUnit.MILLISECONDS)
        && delivery.failure() == null && System.nanoTime() < deadlineNs) {
      // waiting for every "created", or the first refusal
    }
    if (delivery.created.getCount() > 0) {
      streams.forEach(WatchStream::close);
      throw new IllegalStateException("only " + (config.watchers - delivery.created.getCount()) + " of "
          + config.watchers + " watchers were created: "
          + (delivery.failure() == null ? "no answer within " + config.rpcTimeoutMs + " ms" : delivery.failure()));
    }
    return streams;
  }

  private AsyncRequest stampedPut(EtcdConnection server, MeasurementWindow window, AtomicLong expected) {
    return (client, seq, done) -> {
      int key = (int) (seq % config.watchKeys);
      boolean measured = window.isOpen();
      PutRequest request = PutRequest.newBuilder().setKey(keys.key(key))
          .setValue(Payload.stamped(config.valueSizeBytes, System.nanoTime(), measured)).build();
      server.kv((int) seq).put(request, new Completion() {
        @Override
        public void succeeded() {
          if (measured) {
            expected.addAndGet(watchersOnKey[key]);
          }
          done.succeeded();
        }

        @Override
        public void failed(Throwable error) {
          done.failed(error);
        }
      }.observer());
    };
  }

  /** Counts and times the events of measured puts as they arrive at the watchers. */
  private final class Delivery implements WatchStream.Listener {
    final CountDownLatch created = new CountDownLatch(config.watchers);
    private final LatencyRecorder recorder;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong lastNs = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();

    Delivery(LatencyRecorder recorder) {
      this.recorder = recorder;
    }

    @Override
    public void created(int watcher, long revision) {
      created.countDown();
    }

    @Override
    public void events(int watcher, List<Event> events) {
      long nowNs = System.nanoTime();
      for (Event event : events) {
        long sentNs = Payload.measuredSentNs(event.getKv().getValue());
        if (sentNs >= 0) {
          recorder.recordNs(nowNs - sentNs);
          delivered.incrementAndGet();
          lastNs.accumulateAndGet(nowNs, Math::max);
        }
      }
    }

    @Override
    public void failed(int watcher, String reason) {
      failure.compareAndSet(null, "watcher " + watcher + ": " + reason);
    }

    long count() {
      return delivered.get();
    }

    long lastNs() {
      return lastNs.get();
    }

    String failure() {
      return failure.get();
    }

    void await(long expectedEvents, long timeoutMs) throws InterruptedException {
      long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      while (delivered.get() < expectedEvents && System.nanoTime() < deadlineNs && failure.get() == null) {
        Thread.sleep(2);
      }
    }
  }
}
