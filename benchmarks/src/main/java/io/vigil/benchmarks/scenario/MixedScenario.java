package io.vigil.benchmarks.scenario;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.vigil.benchmarks.BenchConfig;
import io.vigil.benchmarks.measure.LatencyRecorder;
import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.mvccpb.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code mixed}, shaped like a Kubernetes control plane: {@code --mixed-resources} key prefixes
 * ("resource types") of {@code --mixed-objects} objects each. At the start of the window every
 * one of {@code --mixed-informers} informers lists its resource in pages of
 * {@code --mixed-list-page} at one revision, then watches the prefix from the next revision,
 * while writers update random objects at {@code --mixed-put-rate}. Headline: update latency;
 * also list latency (all pages) and put-to-delivery latency of the informers' events.
 */
final class MixedScenario implements Scenario {
  private final BenchConfig config;
  private final List<Keys> resources = new ArrayList<>();
  private final SplittableRandom random;

  MixedScenario(BenchConfig config, String prefix) {
    this.config = config;
    for (int r = 0; r < config.mixedResources; r++) {
      resources.add(new Keys(prefix + "r" + r + "/", config.keySizeBytes + 4, config.mixedObjects));
    }
    this.random = new SplittableRandom(config.seed);
  }

  @Override
  public String name() {
    return "mixed";
  }

  @Override
  public String describe() {
    return config.mixedInformers + " informers (list then watch) over " + config.mixedResources + " resources × "
        + config.mixedObjects + " objects of " + config.mixedValueSizeBytes + " B, updates at "
        + config.mixedPutRate + "/s, " + config.connections + " connections"
        + (config.watchPrevKv ? ", watches with prev_kv" : "");
  }

  @Override
  public void prepare(EtcdConnection server) throws InterruptedException {
    ByteString value = Payload.filler(config.mixedValueSizeBytes);
    long total = (long) config.mixedResources * config.mixedObjects;
    Pipeline.run(total, 64, 10 * 60_000L, (slot, i, done) -> server.kv(slot).put(PutRequest.newBuilder()
        .setKey(resources.get((int) (i / config.mixedObjects)).key(i % config.mixedObjects))
        .setValue(value).build(), done.observer()));
  }

  @Override
  public List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws InterruptedException {
    LatencyRecorder puts = window.recorder("update", true);
    LatencyRecorder lists = window.recorder("list", false);
    LatencyRecorder deliveries = window.recorder("delivery", false);
    Informers informers = new Informers(server, lists, deliveries);
    PacedLoad load = new PacedLoad(config.mixedPutRate, Math.max(1, config.clients));
    AsyncRequest update = (client, seq, done) -> {
      int r = random.nextInt(config.mixedResources);
      server.kv((int) seq).put(PutRequest.newBuilder()
          .setKey(resources.get(r).key(random.nextInt(config.mixedObjects)))
          .setValue(Payload.stamped(config.mixedValueSizeBytes, System.nanoTime(), window.isOpen()))
          .build(), done.observer());
    };
    try {
      load.send(config.warmupMs, puts, window::isOpen, update);
      window.open();
      informers.start();
      load.send(config.durationMs, puts, window::isOpen, update);
      load.awaitReplies(config.rpcTimeoutMs);
      window.close();
      if (informers.failure.get() != null) {
        throw new IllegalStateException(informers.failure.get());
      }
      long elapsedNs = window.elapsedNs();
      return List.of(puts.toMeasure(elapsedNs), lists.toMeasure(elapsedNs), deliveries.toMeasure(elapsedNs));
    } finally {
      informers.close();
    }
  }

  /** The informers: each lists its resource page by page at one revision, then watches it. */
  private final class Informers implements WatchStream.Listener {
    private final EtcdConnection server;
    private final LatencyRecorder lists;
    private final LatencyRecorder deliveries;
    private final List<WatchStream> streams = new ArrayList<>();
    final AtomicReference<String> failure = new AtomicReference<>();

    Informers(EtcdConnection server, LatencyRecorder lists, LatencyRecorder deliveries) {
      this.server = server;
      this.lists = lists;
      this.deliveries = deliveries;
      for (int c = 0; c < server.connections(); c++) {
        streams.add(new WatchStream(server.watch(c), this));
      }
    }

    void start() {
      for (int i = 0; i < config.mixedInformers; i++) {
        Keys resource = resources.get(i % config.mixedResources);
        listPage(i, resource, resource.prefix(), 0, System.nanoTime());
      }
    }

    private void listPage(int informer, Keys resource, ByteString from, long revision, long startNs) {
      RangeRequest request = RangeRequest.newBuilder().setKey(from).setRangeEnd(resource.prefixEnd())
          .setLimit(config.mixedListPage).setRevision(revision).build();
      server.kv(informer).range(request, new StreamObserver<RangeResponse>() {
        @Override
        public void onNext(RangeResponse page) {
          long listRevision = revision > 0 ? revision : page.getHeader().getRevision();
          if (page.getMore() && page.getKvsCount() > 0) {
            ByteString last = page.getKvs(page.getKvsCount() - 1).getKey();
            listPage(informer, resource, last.concat(ByteString.copyFrom(new byte[] {0})), listRevision, startNs);
            return;
          }
          lists.recordNs(System.nanoTime() - startNs);
          synchronized (streams) {
            streams.get(informer % streams.size()).create(informer, resource.prefix(), resource.prefixEnd(),
                listRevision + 1, config.watchPrevKv);
          }
        }

        @Override
        public void onError(Throwable error) {
          lists.recordError(error);
        }

        @Override
        public void onCompleted() {}
      });
    }

    @Override
    public void created(int watcher, long revision) {}

    @Override
    public void events(int watcher, List<Event> events) {
      long nowNs = System.nanoTime();
      for (Event event : events) {
        long sentNs = Payload.measuredSentNs(event.getKv().getValue());
        if (sentNs >= 0) {
          deliveries.recordNs(nowNs - sentNs);
        }
      }
    }

    @Override
    public void failed(int watcher, String reason) {
      failure.compareAndSet(null, "informer " + watcher + ": " + reason);
    }

    void close() {
      synchronized (streams) {
        streams.forEach(WatchStream::close);
      }
    }
  }
}
