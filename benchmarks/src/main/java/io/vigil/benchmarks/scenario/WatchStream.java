package io.vigil.benchmarks.scenario;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One Watch bidi stream carrying many watchers. The server answers create requests on a stream
 * in order, so the n-th {@code created} response belongs to the n-th create sent; that maps the
 * server's watch ids to the caller's watcher numbers without relying on client-chosen ids.
 * Create and close are called from one thread; callbacks arrive on transport threads.
 */
final class WatchStream {
  /** Receives what the watchers of a stream get. Must not block. */
  interface Listener {
    void created(int watcher, long revision);

    void events(int watcher, List<Event> events);

    void failed(int watcher, String reason);
  }

  private final Listener listener;
  private final ConcurrentLinkedQueue<Integer> pendingCreates = new ConcurrentLinkedQueue<>();
  private final Map<Long, Integer> watcherById = new ConcurrentHashMap<>();
  private final StreamObserver<WatchRequest> requests;
  private volatile String broken;

  WatchStream(WatchGrpc.WatchStub stub, Listener listener) {
    this.listener = listener;
    this.requests = stub.watch(new Responses());
  }

  void create(int watcher, ByteString key, ByteString rangeEnd, long startRevision, boolean prevKv) {
    pendingCreates.add(watcher);
    requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
        .setKey(key).setRangeEnd(rangeEnd).setStartRevision(startRevision).setPrevKv(prevKv)).build());
    String failure = broken;
    if (failure != null) {
      listener.failed(watcher, failure); // the stream died before (or while) this create was sent
    }
  }

  /** Ends the stream and every watcher on it. */
  void close() {
    ((ClientCallStreamObserver<WatchRequest>) requests).cancel("benchmark round over", null);
  }

  private final class Responses implements StreamObserver<WatchResponse> {
    @Override
    public void onNext(WatchResponse response) {
      if (response.getCreated()) {
        Integer watcher = pendingCreates.poll();
        if (watcher == null) {
          return; // not ours to track
        }
        if (response.getCanceled()) {
          listener.failed(watcher, "watch create refused: " + response.getCancelReason());
          return;
        }
        watcherById.put(response.getWatchId(), watcher);
        listener.created(watcher, response.getHeader().getRevision());
      }
      Integer watcher = watcherById.get(response.getWatchId());
      if (watcher == null) {
        return;
      }
      if (response.getEventsCount() > 0) {
        listener.events(watcher, response.getEventsList());
      }
      if (response.getCanceled() && !response.getCreated()) {
        listener.failed(watcher, "watch canceled: " + response.getCancelReason()
            + (response.getCompactRevision() > 0 ? " (compacted at " + response.getCompactRevision() + ")" : ""));
      }
    }

    @Override
    public void onError(Throwable error) {
      if (Status.fromThrowable(error).getCode() != Status.Code.CANCELLED) {
        String failure = "watch stream failed: " + error.getMessage();
        broken = failure;
        watcherById.values().forEach(w -> listener.failed(w, failure));
        pendingCreates.forEach(w -> listener.failed(w, failure));
      }
    }

    @Override
    public void onCompleted() {}
  }
}
