package io.vigil.server;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.proto.v3electionpb.LeaderResponse;

/**
 * One Observe call (etcd's Election.observe): sends the leader's key-value, then every value it
 * proclaims, until its key is deleted; then the next leader's, and so on. With no leader it
 * waits for the first key put under the election's prefix. Every leader is sent, in the order
 * they led, with its latest value; a value replaced before it was read may be skipped, as etcd's.
 *
 * <p>Each step runs on the call's event loop (the scope's executor), one at a time. The stream
 * ends OK when a watch is lost (a compaction) or a read fails, as etcd's Observe returns when its
 * observer's channel closes; the client's cancel or the server's close ends the scope, and with
 * it the watch.
 */
final class LeaderObserver {
    private final LocalKv kv;
    private final LocalKv.Scope scope;
    private final ByteString prefix;
    private final ServerCallStreamObserver<LeaderResponse> out;
    /** The watch open now (first key, or the leader's key); event loop only. */
    private LocalKv.Watch watch;
    /**
     * The step the open watch serves. A watch may answer inside {@link LocalKv#watch} itself (its
     * scope's executor runs tasks inline when the call has no event loop): the step can then end,
     * and the next begin, before the watch is even returned. A response for a step that is no
     * longer current is dropped, and a watch returned for such a step is closed at once.
     */
    private Object step;

    LeaderObserver(LocalKv kv, LocalKv.Scope scope, ByteString prefix, ServerCallStreamObserver<LeaderResponse> out) {
        this.kv = kv;
        this.scope = scope;
        this.prefix = prefix;
        this.out = out;
    }

    void start() {
        findLeader();
    }

    /** Reads the leader; follows it, or with none waits for the first campaigner. */
    private void findLeader() {
        kv.range(scope, LocalKv.firstCreated(prefix)).whenComplete((r, failure) -> {
            if (scope.isEnded()) {
                return;
            }
            if (failure != null) {
                end();
            } else if (r.getKvsCount() == 0) {
                awaitFirst(r.getHeader().getRevision());
            } else {
                KeyValue leader = r.getKvs(0);
                send(r.getHeader(), leader);
                follow(leader.getKey(), r.getHeader().getRevision() + 1);
            }
        });
    }

    /** Watches the prefix from {@code revision} for the first put: that key leads. */
    private void awaitFirst(long revision) {
        open(WatchCreateRequest.newBuilder().setKey(prefix)
                .setRangeEnd(LocalKv.firstCreated(prefix).getRangeEnd()).setStartRevision(revision).build(), resp -> {
                    for (Event e : resp.getEventsList()) {
                        if (e.getType() == Event.EventType.PUT) {
                            closeWatch();
                            KeyValue leader = e.getKv();
                            send(resp.getHeader().toBuilder().setRevision(leader.getModRevision()).build(), leader);
                            follow(leader.getKey(), leader.getModRevision() + 1);
                            return;
                        }
                    }
                });
    }

    /** Sends each new value of the leader's key from {@code revision} on; at its delete, finds the next leader. */
    private void follow(ByteString key, long revision) {
        open(WatchCreateRequest.newBuilder().setKey(key).setStartRevision(revision).build(), resp -> {
            for (Event e : resp.getEventsList()) {
                if (e.getType() == Event.EventType.DELETE) {
                    closeWatch();
                    findLeader();
                    return;
                }
                send(resp.getHeader(), e.getKv());
            }
        });
    }

    private void open(WatchCreateRequest request, java.util.function.Consumer<WatchResponse> onEvents) {
        Object mine = new Object();
        step = mine;
        LocalKv.Watch opened = kv.watch(scope, request, resp -> {
            if (step != mine) {
                return;
            }
            if (resp.getCanceled()) {
                end();
            } else if (!scope.isEnded()) {
                onEvents.accept(resp);
            }
        });
        if (step == mine) {
            watch = opened;
        } else if (opened != null) {
            opened.close(); // its step ended while it was being opened
        }
    }

    private void closeWatch() {
        step = null;
        if (watch != null) {
            watch.close();
            watch = null;
        }
    }

    private void send(ResponseHeader header, KeyValue kv) {
        try {
            out.onNext(LeaderResponse.newBuilder().setHeader(header).setKv(kv).build());
        } catch (RuntimeException ended) {
            scope.end(); // the call ended under us
        }
    }

    private void end() {
        closeWatch();
        try {
            out.onCompleted();
        } catch (RuntimeException ended) {
            // already ended
        }
        scope.end();
    }
}
