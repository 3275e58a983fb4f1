package io.vigil.client;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A watch that survives its stream: when a stream fails (the member went away, lost its leader,
 * or shut down), a new one is opened on the next member from {@link #nextRevision}, after a
 * backoff. Every stream carries etcd's {@code hasleader} metadata, so a member cut off from its
 * leader ends the stream instead of going silent, and the watch moves to a member that has one.
 *
 * <p>Ordering: every response, failure and reconnection is handled on one serial executor, in
 * the order it happened; the listener runs there too. A response is asked for each time the
 * listener is done with one, with a fixed number asked ahead (gRPC's manual flow control), so a
 * slow listener holds back the server rather than a growing queue here. {@link #nextRevision} only grows: events below it
 * (a resumed stream repeating a revision) are dropped, and it moves past a revision once its
 * events are told, or past a progress notice's revision.
 */
final class ResumingWatch implements Watch {
    static final Metadata.Key<String> HAS_LEADER = Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER);
    private static final long BACKOFF_MIN_MS = 25;
    private static final long BACKOFF_MAX_MS = 2000;
    /**
     * Responses asked for ahead of the listener: the server streams on while the listener works
     * (one at a time would leave the stream idle for a thread hand-off per response), and a slow
     * listener still holds the server back once these are queued.
     */
    private static final int RESPONSES_AHEAD = 16;

    private final Endpoints endpoints;
    private final WatchCreateRequest template;
    private final WatchListener listener;
    private final SerialExecutor serial;
    private final ScheduledExecutorService timer;
    // on the serial executor
    private volatile long nextRevision;
    private volatile boolean ended;
    private int failures;
    private Stream stream;

    ResumingWatch(Endpoints endpoints, WatchCreateRequest template, WatchListener listener, SerialExecutor serial,
                  ScheduledExecutorService timer) {
        this.endpoints = endpoints;
        this.template = template;
        this.listener = listener;
        this.serial = serial;
        this.timer = timer;
        this.nextRevision = template.getStartRevision();
    }

    void start() {
        serial.execute(this::open);
    }

    @Override
    public long nextRevision() {
        return nextRevision;
    }

    @Override
    public void close() {
        ended = true;
        serial.execute(() -> {
            if (stream != null) {
                stream.cancel();
                stream = null;
            }
        });
    }

    private void open() {
        if (ended) {
            return;
        }
        int member = endpoints.preferred();
        Metadata headers = new Metadata();
        headers.put(HAS_LEADER, "true");
        stream = new Stream(member);
        WatchGrpc.newStub(endpoints.channel(member))
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .watch(stream);
        // nextRevision 0: from now on; the created response tells where "now" is
        stream.send(WatchRequest.newBuilder()
                .setCreateRequest(template.toBuilder().setStartRevision(nextRevision)).build());
    }

    private void onResponse(Stream from, WatchResponse r) {
        if (ended || from != stream) {
            return;
        }
        if (r.getCreated()) {
            failures = 0;
            if (nextRevision == 0) {
                nextRevision = r.getHeader().getRevision() + 1;
            }
        }
        if (r.getCanceled()) {
            end(from);
            if (r.getCompactRevision() > 0) {
                listener.onCompacted(r.getCompactRevision());
            } else {
                listener.onError(new VigilException(Status.Code.CANCELLED,
                        r.getCancelReason().isEmpty() ? "the server canceled the watch" : r.getCancelReason(), false, null));
            }
            return;
        }
        try {
            if (r.getEventsCount() > 0) {
                tell(r.getEventsList());
            } else if (!r.getCreated() && r.getHeader().getRevision() >= nextRevision) {
                nextRevision = r.getHeader().getRevision() + 1;
                listener.onProgress(r.getHeader().getRevision());
            }
        } finally {
            // a listener that throws has its exception reported by the serial executor; the watch goes on
            if (!ended && from == stream) {
                from.requestNext();
            }
        }
    }

    /** Tells the events at or above nextRevision, one call per revision. */
    private void tell(List<Event> events) {
        List<WatchEvent> group = new ArrayList<>();
        long revision = -1;
        for (Event e : events) {
            long r = e.getKv().getModRevision();
            if (r < nextRevision) {
                continue;
            }
            if (r != revision && !group.isEmpty()) {
                told(revision, group);
                group = new ArrayList<>();
            }
            revision = r;
            group.add(WatchEvent.of(e));
        }
        if (!group.isEmpty()) {
            told(revision, group);
        }
    }

    private void told(long revision, List<WatchEvent> group) {
        nextRevision = revision + 1;
        listener.onEvents(revision, List.copyOf(group));
    }

    private void onFailure(Stream from, Status status) {
        if (ended || from != stream) {
            return;
        }
        stream = null;
        if (!Retries.transientFailure(status)) {
            ended = true;
            listener.onError(VigilException.of(new StatusRuntimeException(status)));
            return;
        }
        endpoints.failed(from.member);
        long backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS << Math.min(failures, 10));
        failures++;
        backoff += (long) (Math.random() * backoff / 2);
        try {
            timer.schedule(() -> serial.execute(this::open), backoff, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closed) {
            ended = true; // the client closed
        }
    }

    private void end(Stream from) {
        ended = true;
        from.cancel();
        stream = null;
    }

    /** One gRPC stream of this watch, on one member. */
    private final class Stream implements ClientResponseObserver<WatchRequest, WatchResponse> {
        final int member;
        private ClientCallStreamObserver<WatchRequest> requests;

        Stream(int member) {
            this.member = member;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
            requests = requestStream;
            requestStream.disableAutoRequestWithInitial(RESPONSES_AHEAD);
        }

        void send(WatchRequest request) {
            requests.onNext(request);
        }

        void requestNext() {
            requests.request(1);
        }

        void cancel() {
            requests.cancel("watch closed", null);
        }

        @Override
        public void onNext(WatchResponse response) {
            serial.execute(() -> onResponse(this, response));
        }

        @Override
        public void onError(Throwable t) {
            serial.execute(() -> onFailure(this, Status.fromThrowable(t)));
        }

        @Override
        public void onCompleted() {
            serial.execute(() -> onFailure(this, Status.UNAVAILABLE.withDescription("the server ended the watch stream")));
        }
    }
}
