package io.vigil.server;

import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** One raw Watch stream; what the server sent, in order. */
final class RawWatchStream implements ClientResponseObserver<WatchRequest, WatchResponse> {
    final List<WatchResponse> received = new CopyOnWriteArrayList<>();
    final boolean manualFlow;
    ClientCallStreamObserver<WatchRequest> requests;

    RawWatchStream(boolean manualFlow) {
        this.manualFlow = manualFlow;
    }

    static RawWatchStream open(ManagedChannel channel, boolean manualFlow) {
        RawWatchStream s = new RawWatchStream(manualFlow);
        WatchGrpc.newStub(channel).watch(s);
        return s;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
        requests = requestStream;
        if (manualFlow) {
            requestStream.disableAutoRequestWithInitial(0);
        }
    }

    @Override
    public void onNext(WatchResponse value) {
        received.add(value);
    }

    @Override
    public void onError(Throwable t) {
    }

    @Override
    public void onCompleted() {
    }

    synchronized void send(WatchRequest r) {
        requests.onNext(r);
    }

    void create(WatchCreateRequest.Builder c) {
        send(WatchRequest.newBuilder().setCreateRequest(c).build());
    }

    WatchResponse awaitCreated(int nth) {
        await().atMost(Duration.ofSeconds(30)).until(() -> received.stream().filter(WatchResponse::getCreated).count() > nth);
        return received.stream().filter(WatchResponse::getCreated).skip(nth).findFirst().orElseThrow();
    }

    List<Event> events(long watchId) {
        List<Event> out = new ArrayList<>();
        for (WatchResponse r : received) {
            if (r.getWatchId() == watchId) {
                out.addAll(r.getEventsList());
            }
        }
        return out;
    }

    void awaitEvents(long watchId, int n) {
        await().atMost(Duration.ofSeconds(60)).until(() -> events(watchId).size() >= n);
    }

    void close() {
        requests.cancel("done", null);
    }
}

