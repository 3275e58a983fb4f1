package io.vigil.robustness.check;

import com.google.protobuf.ByteString;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeResponse;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RangeResponse;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.ResponseOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.TxnResponse;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.history.Operation;
import io.vigil.proto.history.Request;
import io.vigil.proto.history.Response;
import io.vigil.proto.history.WatchRecord;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import io.vigil.robustness.history.History;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Small hand-made histories for the checkers' tests. Times are in milliseconds of the run (turned
 * into nanos), revisions as etcd numbers them (the empty store is revision 1). A {@link Store}
 * produces the events a correct etcd would announce, so a test writes what the clients saw and
 * only spells out by hand what is wrong.
 */
final class Histories {
    static final String M1 = "m1:2379";
    static final String M2 = "m2:2379";

    private final List<Operation> operations = new ArrayList<>();
    private final List<WatchRecord> watches = new ArrayList<>();

    static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    static long ms(long millis) {
        return millis * 1_000_000L;
    }

    static KeyValue kv(String key, String value, long create, long mod, long version) {
        return KeyValue.newBuilder().setKey(b(key)).setValue(b(value)).setCreateRevision(create).setModRevision(mod)
                .setVersion(version).build();
    }

    static ResponseHeader header(long revision) {
        return ResponseHeader.newBuilder().setRevision(revision).build();
    }

    History build() {
        return new History(operations, watches, List.of());
    }

    // ---- operations ----

    Histories op(int client, String member, long callMs, long returnMs, Request request, Response response) {
        operations.add(Operation.newBuilder().setClient(client).setMember(member).setCallNanos(ms(callMs))
                .setReturnNanos(ms(returnMs)).setRequest(request).setResponse(response).build());
        return this;
    }

    Histories failed(int client, long callMs, long returnMs, Request request, String error) {
        operations.add(Operation.newBuilder().setClient(client).setMember(M1).setCallNanos(ms(callMs))
                .setReturnNanos(ms(returnMs)).setRequest(request).setError(error).build());
        return this;
    }

    static Request putRequest(String key, String value) {
        return Request.newBuilder().setPut(PutRequest.newBuilder().setKey(b(key)).setValue(b(value))).build();
    }

    Histories put(int client, long callMs, long returnMs, String key, String value, long revision) {
        return op(client, M1, callMs, returnMs, putRequest(key, value),
                Response.newBuilder().setPut(PutResponse.newBuilder().setHeader(header(revision))).build());
    }

    Histories putWithLease(int client, long callMs, long returnMs, String key, String value, long lease, long revision) {
        return op(client, M1, callMs, returnMs,
                Request.newBuilder().setPut(PutRequest.newBuilder().setKey(b(key)).setValue(b(value)).setLease(lease)).build(),
                Response.newBuilder().setPut(PutResponse.newBuilder().setHeader(header(revision))).build());
    }

    /** A put whose call timed out: it may or may not have happened. */
    Histories putUnknown(int client, long callMs, long returnMs, String key, String value) {
        return failed(client, callMs, returnMs, putRequest(key, value), "context deadline exceeded");
    }

    Histories delete(int client, long callMs, long returnMs, String key, String rangeEnd, boolean prevKv, long revision,
            KeyValue... deleted) {
        DeleteRangeResponse.Builder r = DeleteRangeResponse.newBuilder().setHeader(header(revision)).setDeleted(deleted.length);
        if (prevKv) {
            r.addAllPrevKvs(List.of(deleted));
        }
        return op(client, M1, callMs, returnMs, Request.newBuilder().setDeleteRange(
                DeleteRangeRequest.newBuilder().setKey(b(key)).setRangeEnd(b(rangeEnd)).setPrevKv(prevKv)).build(),
                Response.newBuilder().setDeleteRange(r).build());
    }

    /** A linearizable get of one key answered at revision, returning kvs. */
    Histories get(int client, long callMs, long returnMs, String key, long revision, KeyValue... kvs) {
        return range(client, M1, callMs, returnMs, RangeRequest.newBuilder().setKey(b(key)).build(), revision, kvs.length, false, kvs);
    }

    Histories serializableGet(int client, String member, long callMs, long returnMs, String key, long revision,
            KeyValue... kvs) {
        return range(client, member, callMs, returnMs, RangeRequest.newBuilder().setKey(b(key)).setSerializable(true).build(),
                revision, kvs.length, false, kvs);
    }

    Histories range(int client, String member, long callMs, long returnMs, RangeRequest request, long revision, long count,
            boolean more, KeyValue... kvs) {
        return op(client, member, callMs, returnMs, Request.newBuilder().setRange(request).build(),
                Response.newBuilder().setRange(RangeResponse.newBuilder().setHeader(header(revision)).addAllKvs(List.of(kvs))
                        .setCount(count).setMore(more)).build());
    }

    Histories txn(int client, long callMs, long returnMs, TxnRequest request, boolean succeeded, long revision,
            ResponseOp... responses) {
        return op(client, M1, callMs, returnMs, Request.newBuilder().setTxn(request).build(),
                Response.newBuilder().setTxn(TxnResponse.newBuilder().setHeader(header(revision)).setSucceeded(succeeded)
                        .addAllResponses(List.of(responses))).build());
    }

    static Compare versionEquals(String key, long version) {
        return Compare.newBuilder().setKey(b(key)).setTarget(Compare.CompareTarget.VERSION)
                .setResult(Compare.CompareResult.EQUAL).setVersion(version).build();
    }

    static RequestOp putOp(String key, String value) {
        return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(b(key)).setValue(b(value))).build();
    }

    static RequestOp getOp(String key) {
        return RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b(key))).build();
    }

    static ResponseOp putAnswer() {
        return ResponseOp.newBuilder().setResponsePut(PutResponse.getDefaultInstance()).build();
    }

    static ResponseOp getAnswer(KeyValue... kvs) {
        return ResponseOp.newBuilder().setResponseRange(RangeResponse.newBuilder().addAllKvs(List.of(kvs)).setCount(kvs.length))
                .build();
    }

    // ---- watches ----

    /** A watcher on a member: a watch of every key from startRevision (0: from now). */
    Watcher watcher(int watcher, String member) {
        return new Watcher(watcher, member);
    }

    final class Watcher {
        private final int watcher;
        private final String member;

        Watcher(int watcher, String member) {
            this.watcher = watcher;
            this.member = member;
        }

        Watcher create(long nanosMs, long startRevision) {
            return create(nanosMs, WatchCreateRequest.newBuilder().setKey(b("\0")).setRangeEnd(b("\0"))
                    .setStartRevision(startRevision).build());
        }

        Watcher create(long nanosMs, WatchCreateRequest request) {
            watches.add(WatchRecord.newBuilder().setWatcher(watcher).setMember(member).setNanos(ms(nanosMs))
                    .setCreate(request).build());
            return response(nanosMs, WatchResponse.newBuilder().setCreated(true).setHeader(header(1)).build());
        }

        /** One WatchResponse holding these events; its header is the last event's revision. */
        Watcher events(long nanosMs, Event... events) {
            long revision = events.length == 0 ? 0 : events[events.length - 1].getKv().getModRevision();
            return response(nanosMs, WatchResponse.newBuilder().setHeader(header(revision)).addAllEvents(List.of(events)).build());
        }

        /** One response per revision, all of the store's revisions in order. */
        Watcher all(long nanosMs, Store store) {
            for (List<Event> revision : store.revisions()) {
                events(nanosMs, revision.toArray(new Event[0]));
            }
            return this;
        }

        Watcher progress(long nanosMs, long revision) {
            return response(nanosMs, WatchResponse.newBuilder().setHeader(header(revision)).build());
        }

        Watcher error(long nanosMs, String error) {
            watches.add(WatchRecord.newBuilder().setWatcher(watcher).setMember(member).setNanos(ms(nanosMs)).setError(error)
                    .build());
            return this;
        }

        Watcher response(long nanosMs, WatchResponse response) {
            watches.add(WatchRecord.newBuilder().setWatcher(watcher).setMember(member).setNanos(ms(nanosMs))
                    .setResponse(response).build());
            return this;
        }
    }

    /** The events a correct store announces; the empty store is at revision 1. */
    static final class Store {
        private final Map<String, KeyValue> keys = new HashMap<>();
        private final List<List<Event>> revisions = new ArrayList<>();
        private long revision = 1;
        private List<Event> pending;

        /** Groups the puts and deletes until {@link #commit()} into one revision (a txn). */
        Store begin() {
            pending = new ArrayList<>();
            return this;
        }

        List<Event> commit() {
            List<Event> done = pending;
            pending = null;
            revision++;
            revisions.add(done);
            return done;
        }

        Event put(String key, String value) {
            return put(key, value, 0);
        }

        Event put(String key, String value, long lease) {
            boolean alone = pending == null;
            if (alone) {
                begin();
            }
            long r = revision + 1;
            KeyValue prev = keys.get(key);
            KeyValue kv = KeyValue.newBuilder().setKey(b(key)).setValue(b(value)).setLease(lease)
                    .setCreateRevision(prev == null ? r : prev.getCreateRevision()).setModRevision(r)
                    .setVersion(prev == null ? 1 : prev.getVersion() + 1).build();
            keys.put(key, kv);
            Event e = Event.newBuilder().setType(Event.EventType.PUT).setKv(kv).build();
            pending.add(e);
            if (alone) {
                commit();
            }
            return e;
        }

        Event delete(String key) {
            boolean alone = pending == null;
            if (alone) {
                begin();
            }
            keys.remove(key);
            Event e = Event.newBuilder().setType(Event.EventType.DELETE)
                    .setKv(KeyValue.newBuilder().setKey(b(key)).setModRevision(revision + 1)).build();
            pending.add(e);
            if (alone) {
                commit();
            }
            return e;
        }

        KeyValue get(String key) {
            return keys.get(key);
        }

        /** The keys in [key, rangeEnd), in key order. */
        List<KeyValue> range(String key, String rangeEnd) {
            return keys.values().stream()
                    .filter(kv -> Keys.inRange(kv.getKey(), b(key), b(rangeEnd)))
                    .sorted((x, y) -> Keys.ORDER.compare(x.getKey(), y.getKey()))
                    .toList();
        }

        long revision() {
            return revision;
        }

        List<List<Event>> revisions() {
            return revisions;
        }
    }
}
