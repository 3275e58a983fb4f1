package io.vigil.benchmarks.scenario;

import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.LatencyRecorder;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.mvccpb.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code watch-catchup}: {@code --catchup-events} puts are written once under a prefix; each
 * round, {@code --catchup-watchers} watchers (one stream each) watch the prefix from the revision
 * before the first of them and replay all. Headline: events replayed per second (all watchers);
 * its latency column is the time each watcher took to receive everything.
 */
final class WatchCatchupScenario implements Scenario {
  /** A replay that takes longer than this is reported as failed rather than waited for. */
  static final long REPLAY_TIMEOUT_MS = 120_000;

  private final BenchConfig config;
  private final Keys keys;
  private final int distinctKeys;
  private long startRevision;

  WatchCatchupScenario(BenchConfig config, String prefix) {
    this.config = config;
    this.distinctKeys = Math.min(config.catchupEvents, 1000);
    this.keys = new Keys(prefix, config.keySizeBytes, distinctKeys);
  }

  @Override
  public String name() {
    return "watch-catchup";
  }

  @Override
  public String describe() {
    return config.catchupWatchers + " watchers each replaying " + config.catchupEvents + " events ("
        + distinctKeys + " keys, value " + config.valueSizeBytes + " B) from an old revision";
  }

  @Override
  public void prepare(EtcdConnection server) throws InterruptedException {
    long revisionBefore = server.kvBlocking(0).range(RangeRequest.newBuilder()
        .setKey(keys.key(0)).setCountOnly(true).build()).getHeader().getRevision();
    startRevision = revisionBefore + 1;
    var value = Payload.filler(config.valueSizeBytes);
    Pipeline.run(config.catchupEvents, 64, 10 * 60_000L, (slot, i, done) -> server.kv(slot).put(
        PutRequest.newBuilder().setKey(keys.key(i % distinctKeys)).setValue(value).build(), done.observer()));
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws InterruptedException {
    LatencyRecorder replays = window.recorder("replay", false);
    Replay replay = new Replay(window, replays);
    List<WatchStream> streams = new ArrayList<>();
    try {
      window.open();
      for (int w = 0; w < config.catchupWatchers; w++) {
        WatchStream stream = new WatchStream(server.watch(w), replay);
        streams.add(stream);
        stream.create(w, keys.prefix(), keys.prefixEnd(), startRevision, false);
      }
      boolean done = replay.finished.await(REPLAY_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      window.close();
      if (replay.failure.get() != null) {
        throw new IllegalStateException(replay.failure.get());
      }
      replays.recordErrors(replay.finished.getCount(), done ? null
          : "replay not finished within " + REPLAY_TIMEOUT_MS + " ms");
      Measure perWatcher = replays.toMeasure(window.elapsedNs());
      // count = events replayed by all watchers; latency = time per watcher to replay everything
      return List.of(new Measure("replay", replay.events.get(), perWatcher.errors(), window.elapsedNs(),
          perWatcher.latencyNs()));
    } finally {
      streams.forEach(WatchStream::close);
    }
  }

  /** Counts each watcher's events and notes when it has them all. */
  private final class Replay implements WatchStream.Listener {
    final CountDownLatch finished = new CountDownLatch(config.catchupWatchers);
    final AtomicLong events = new AtomicLong();
    final AtomicReference<String> failure = new AtomicReference<>();
    private final AtomicLongArray perWatcher = new AtomicLongArray(config.catchupWatchers);
    private final MeasurementWindow window;
    private final LatencyRecorder recorder;

    Replay(MeasurementWindow window, LatencyRecorder recorder) {
      this.window = window;
      this.recorder = recorder;
    }

    @Override
    public void created(int watcher, long revision) {}

    @Override
    public void events(int watcher, List<Event> batch) {
      events.addAndGet(batch.size());
      window.addProgress(batch.size());
      long before = perWatcher.getAndAdd(watcher, batch.size());
      if (before < config.catchupEvents && before + batch.size() >= config.catchupEvents) {
        recorder.recordNs(System.nanoTime() - window.openedNs());
        finished.countDown();
      }
    }

    @Override
    public void failed(int watcher, String reason) {
      failure.compareAndSet(null, "watcher " + watcher + ": " + reason);
      finished.countDown();
    }
  }
}
