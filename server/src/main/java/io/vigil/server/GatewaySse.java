package io.vigil.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultHttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderNames;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderValues;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponseStatus;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import io.grpc.netty.shaded.io.netty.handler.codec.http.LastHttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.QueryStringDecoder;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A watch as Server-Sent Events, for browsers (beyond etcd's gateway): {@code GET /v3/watch} with
 * query parameters {@code key} and {@code range_end} (base64, standard or URL-safe alphabet,
 * padding optional), {@code start_revision} (decimal) and {@code prev_kv} ({@code true}).
 *
 * <p>The stream, as text/event-stream:
 * <ul>
 *   <li>{@code event: created}, data the created response as the gateway prints it, and an
 *       {@code id}: the revision the watch is positioned after (start_revision − 1, or the
 *       header's revision when none was given).
 *   <li>One unnamed event per revision, data {@code {"header":...,"events":[...]}} (etcd's JSON of
 *       that revision's events: a transaction's events arrive together) and {@code id} that
 *       revision.
 *   <li>A progress notice (requested, so an idle stream still carries something through proxies):
 *       an SSE comment, and its revision as {@code id} with no data (a browser's
 *       {@code EventSource} records it and fires nothing).
 *   <li>{@code event: canceled} (the watch was cancelled, e.g. its revision is compacted: data
 *       the response, with compact_revision), or {@code event: failed} (the call failed, data
 *       the gateway's error body); the response then ends.
 * </ul>
 *
 * <p>Resuming: every id is a revision all of whose events were sent, so a client reconnecting
 * with {@code Last-Event-ID: R} (as {@code EventSource} does by itself) gets a watch from R + 1,
 * overriding start_revision: each revision exactly once across the reconnect.
 *
 * <p>Lifecycle and threads as {@link GatewayExchange}: everything on the connection's event loop.
 */
final class GatewaySse extends GatewayHttpCall {
    static final String EVENT_STREAM = "text/event-stream";

    private long createdId;

    GatewaySse(ChannelHandlerContext ctx, boolean keepAlive, Consumer<Boolean> done) {
        super(ctx, keepAlive, done);
    }

    void start(GatewayCalls calls, FullHttpRequest request) {
        WatchCreateRequest create;
        try {
            create = createRequest(new QueryStringDecoder(request.uri()).parameters(),
                    request.headers().get("Last-Event-ID"));
        } catch (IllegalArgumentException e) {
            refuse(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return;
        }
        createdId = create.getStartRevision() - 1;
        if (!startCall(calls, WatchGrpc.getWatchMethod(), request)) {
            return;
        }
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        ClientPortHttp.cors(r.headers());
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, EVENT_STREAM)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.writeAndFlush(r);
        call.send(WatchRequest.newBuilder().setCreateRequest(create).build());
        call.halfClose();
    }

    /**
     * The watch a request asks for: from {@code Last-Event-ID} + 1 when the client resumes,
     * else from start_revision (0: from now); a key is required.
     */
    static WatchCreateRequest createRequest(Map<String, List<String>> query, String lastEventId) {
        String key = single(query, "key");
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("key is required (base64)");
        }
        WatchCreateRequest.Builder b = WatchCreateRequest.newBuilder().setKey(base64(key, "key")).setProgressNotify(true);
        String rangeEnd = single(query, "range_end");
        if (rangeEnd != null) {
            b.setRangeEnd(base64(rangeEnd, "range_end"));
        }
        String start = single(query, "start_revision");
        if (start != null) {
            b.setStartRevision(revision(start, "start_revision"));
        }
        if (lastEventId != null && !lastEventId.isBlank()) {
            b.setStartRevision(revision(lastEventId.trim(), "Last-Event-ID") + 1);
        }
        b.setPrevKv("true".equals(single(query, "prev_kv")));
        return b.build();
    }

    private static String single(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(values.size() - 1);
    }

    private static ByteString base64(String value, String name) {
        String standard = value.replace('-', '+').replace('_', '/');
        try {
            return ByteString.copyFrom(Base64.getDecoder().decode(standard + "==".substring(0, (4 - standard.length() % 4) % 4)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " is not base64: " + e.getMessage());
        }
    }

    private static long revision(String value, String name) {
        try {
            long r = Long.parseLong(value);
            if (r >= 0) {
                return r;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(name + " is not a revision: " + value);
    }

    @Override
    public void onMessage(Message m) {
        if (finished) {
            return;
        }
        WatchResponse response = (WatchResponse) m;
        if (response.getCreated()) {
            long id = createdId >= 0 ? createdId : response.getHeader().getRevision();
            write("id: " + id + "\nevent: created\ndata: " + GatewayJson.print(response) + "\n\n");
        } else if (response.getCanceled()) {
            write("event: canceled\ndata: " + GatewayJson.print(response) + "\n\n");
            finish();
        } else if (response.getEventsCount() == 0) {
            write(": progress\nid: " + response.getHeader().getRevision() + "\n\n");
        } else {
            write(byRevision(response));
        }
    }

    /** The response's events, one SSE event per revision, in order. */
    static String byRevision(WatchResponse response) {
        StringBuilder out = new StringBuilder();
        List<Event> group = new ArrayList<>();
        long revision = response.getEvents(0).getKv().getModRevision();
        for (Event e : response.getEventsList()) {
            long r = e.getKv().getModRevision();
            if (r != revision) {
                appendRevision(out, response, revision, group);
                group.clear();
                revision = r;
            }
            group.add(e);
        }
        appendRevision(out, response, revision, group);
        return out.toString();
    }

    private static void appendRevision(StringBuilder out, WatchResponse response, long revision, List<Event> events) {
        WatchResponse one = WatchResponse.newBuilder().setHeader(response.getHeader()).addAllEvents(events).build();
        out.append("id: ").append(revision).append("\ndata: ").append(GatewayJson.print(one)).append("\n\n");
    }

    @Override
    public void onClose(Status status) {
        if (finished) {
            return;
        }
        if (!status.isOk()) {
            write("event: failed\ndata: " + GatewayJson.errorBody(status) + "\n\n");
        }
        finish();
    }

    private void finish() {
        finished = true;
        if (call != null) {
            call.cancel();
        }
        end(ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
    }

    private void write(String sse) {
        ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(sse.getBytes(StandardCharsets.UTF_8))));
    }
}
