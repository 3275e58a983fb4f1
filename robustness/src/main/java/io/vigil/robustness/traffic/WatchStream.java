package io.vigil.robustness.traffic;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchProgressRequest;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.history.WatchRecord;
import io.vigil.robustness.history.Recorder;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One watch (one create request) on one stream to one member, every message of it recorded as a
 * {@link WatchRecord} of its watcher: the create request when sent, each response when received,
 * each progress request when sent, and the error the stream ended with.
 *
 * <p>Ordering contract: a response is recorded before it is handed to the listener, so whatever the
 * listener learns from it (the revision a watcher reached) is already in the history. The watch is
 * over when the stream fails, the server completes it, or a response cancels the watch (compacted
 * or refused); then the stream is cancelled and {@link #awaitEnd} returns.
 */
final class WatchStream implements StreamObserver<WatchResponse> {
    /** etcd's clientv3.WithRequireLeader: the member closes the stream when it has no leader. */
    private static final Metadata.Key<String> HAS_LEADER = Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER);

    private final Recorder recorder;
    private final int watcher;
    private final String member;
    private final Consumer<WatchResponse> listener;
    private final CountDownLatch ended = new CountDownLatch(1);
    private ClientCallStreamObserver<WatchRequest> requests;
    private volatile WatchResponse canceledBy;
    private volatile String error;
    private volatile boolean responded;

    private WatchStream(Recorder recorder, int watcher, String member, Consumer<WatchResponse> listener) {
        this.recorder = recorder;
        this.watcher = watcher;
        this.member = member;
        this.listener = listener;
    }

    /** Opens a stream to {@code member} and sends {@code create} on it. */
    static WatchStream open(Recorder recorder, int watcher, String member, ManagedChannel channel,
                            WatchCreateRequest create, boolean requireLeader, Consumer<WatchResponse> listener) {
        WatchStream s = new WatchStream(recorder, watcher, member, listener);
        WatchGrpc.WatchStub stub = WatchGrpc.newStub(channel);
        if (requireLeader) {
            Metadata md = new Metadata();
            md.put(HAS_LEADER, "true");
            stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
        }
        synchronized (s) {
            s.requests = (ClientCallStreamObserver<WatchRequest>) stub.watch(s);
            s.record(WatchRecord.newBuilder().setCreate(create));
            s.requests.onNext(WatchRequest.newBuilder().setCreateRequest(create).build());
        }
        return s;
    }

    String member() {
        return member;
    }

    /** Asks the member for a progress notification (etcd's RequestProgress), recorded when sent. */
    synchronized void requestProgress() {
        if (ended.getCount() == 0) {
            return;
        }
        record(WatchRecord.newBuilder().setProgressRequested(true));
        requests.onNext(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
    }

    /** Waits up to {@code millis} for the watch to end; true when it has. */
    boolean awaitEnd(long millis) throws InterruptedException {
        return ended.await(millis, TimeUnit.MILLISECONDS);
    }

    boolean ended() {
        return ended.getCount() == 0;
    }

    /** The response that canceled the watch (compact_revision set when compacted), or null. */
    WatchResponse canceledBy() {
        return canceledBy;
    }

    /** Whether any response arrived on this watch. */
    boolean responded() {
        return responded;
    }

    /** The error the stream ended with, or null. */
    String error() {
        return error;
    }

    /** Ends the watch from this side; the CANCELLED error that follows is recorded too. */
    synchronized void cancel(String why) {
        requests.cancel(why, null);
    }

    @Override
    public void onNext(WatchResponse response) {
        responded = true;
        record(WatchRecord.newBuilder().setResponse(response));
        listener.accept(response);
        if (response.getCanceled()) {
            canceledBy = response;
            cancel("watch canceled by the server");
            ended.countDown();
        }
    }

    @Override
    public void onError(Throwable t) {
        String e = Outcomes.describe(Status.fromThrowable(t));
        record(WatchRecord.newBuilder().setError(e));
        error = e;
        ended.countDown();
    }

    @Override
    public void onCompleted() {
        String e = "stream completed by the server";
        record(WatchRecord.newBuilder().setError(e));
        error = e;
        ended.countDown();
    }

    private void record(WatchRecord.Builder r) {
        recorder.watch(r.setWatcher(watcher).setMember(member).setNanos(recorder.now()).build());
    }
}
