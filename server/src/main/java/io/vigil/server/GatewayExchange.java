package io.vigil.server;

import com.google.gson.JsonElement;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
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
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;

/**
 * One JSON call on an HTTP/1.1 connection, as etcd 3.4's grpc-gateway (v1) answers it. The
 * request body is the request (or, for a method the client streams to, the requests one after
 * another), in etcd's JSON; the {@code Authorization} header carries the auth token, as the
 * gateway passes it on.
 *
 * <ul>
 *   <li>A method that answers once: 200 with the response, or the error body with the HTTP
 *       status of its gRPC code. A body that does not parse: INVALID_ARGUMENT.
 *   <li>A streaming method (Watch, LeaseKeepAlive, Snapshot, Observe): a chunked 200 response,
 *       each response {@code {"result":...}} and a newline, flushed at once; it ends when the
 *       call ends, an error as a last chunk {@code {"error":{...}}}. The requests are sent, then
 *       the client's side is closed (etcd keeps a watch open after that; a keep-alive stream ends).
 *       A first request that does not parse: UNKNOWN with the parser's words, as an error body.
 * </ul>
 *
 * <p>Lifecycle, all on the connection's event loop: {@link #start} once; the connection tells it
 * of writability ({@link #ready}) and of the client going away ({@link #cancel}); when the call
 * has ended and its response is written, {@code done} is told once with whether the connection
 * may serve another request.
 */
final class GatewayExchange extends GatewayHttpCall {
    static final String JSON = "application/json";

    private boolean streaming;
    private Message unaryResponse;
    private boolean headersWritten;

    GatewayExchange(ChannelHandlerContext ctx, boolean keepAlive, Consumer<Boolean> done) {
        super(ctx, keepAlive, done);
    }

    void start(GatewayCalls calls, MethodDescriptor<?, ?> method, FullHttpRequest request) {
        streaming = !method.getType().serverSendsOneMessage();
        Message prototype = GatewayCalls.requestPrototype(method);
        String body = request.content().toString(StandardCharsets.UTF_8);
        List<JsonElement> values;
        try {
            values = GatewayJson.values(body);
        } catch (InvalidProtocolBufferException e) {
            refuse(parseFailure(method, e));
            return;
        }
        Message[] requests;
        if (method.getType().clientSendsOneMessage()) {
            requests = new Message[1];
            try {
                requests[0] = values.isEmpty() ? prototype : GatewayJson.parse(values.get(0), prototype);
            } catch (InvalidProtocolBufferException e) {
                refuse(parseFailure(method, e));
                return;
            }
        } else {
            // as the gateway: a first request that does not parse fails the call; after that the
            // requests that parsed are sent and the client's side closes
            java.util.ArrayList<Message> parsed = new java.util.ArrayList<>();
            for (JsonElement v : values) {
                try {
                    parsed.add(GatewayJson.parse(v, prototype));
                } catch (InvalidProtocolBufferException e) {
                    if (parsed.isEmpty()) {
                        refuse(parseFailure(method, e));
                        return;
                    }
                    break;
                }
            }
            requests = parsed.toArray(Message[]::new);
        }
        for (Message r : requests) {
            Status tooLarge = calls.check(r);
            if (tooLarge != null) {
                refuse(tooLarge);
                return;
            }
        }
        if (!startCall(calls, method, request)) {
            return;
        }
        for (Message r : requests) {
            call.send(r);
        }
        call.halfClose();
    }

    private static Status parseFailure(MethodDescriptor<?, ?> method, InvalidProtocolBufferException e) {
        Status.Code code = method.getType().clientSendsOneMessage() ? Status.Code.INVALID_ARGUMENT : Status.Code.UNKNOWN;
        return Status.fromCode(code).withDescription(e.getMessage());
    }

    @Override
    public void onMessage(Message response) {
        if (finished) {
            return;
        }
        if (!streaming) {
            unaryResponse = response;
            return;
        }
        writeStreamHeaders(HttpResponseStatus.OK);
        ctx.writeAndFlush(new DefaultHttpContent(utf8(GatewayJson.streamResult(response) + "\n")));
    }

    @Override
    public void onClose(Status status) {
        if (finished) {
            return;
        }
        finished = true;
        if (streaming) {
            if (!status.isOk()) {
                writeStreamHeaders(HttpResponseStatus.valueOf(GatewayJson.httpStatus(status.getCode())));
                ctx.write(new DefaultHttpContent(utf8(GatewayJson.streamError(status))));
            } else {
                writeStreamHeaders(HttpResponseStatus.OK);
            }
            end(ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT));
            return;
        }
        Status s = status.isOk() && unaryResponse == null ? Status.UNKNOWN.withDescription("empty response") : status;
        if (s.isOk()) {
            end(ClientPortHttp.respond(ctx, 200, JSON, GatewayJson.print(unaryResponse), keepAlive, true));
        } else {
            end(ClientPortHttp.respond(ctx, GatewayJson.httpStatus(s.getCode()), JSON, GatewayJson.errorBody(s), keepAlive, true));
        }
    }

    private void writeStreamHeaders(HttpResponseStatus status) {
        if (headersWritten) {
            return;
        }
        headersWritten = true;
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        ClientPortHttp.cors(r.headers());
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, JSON)
                .set(ClientPortHttp.GRPC_CONTENT_TYPE, "application/grpc")
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        if (!keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.write(r);
    }

    private static io.grpc.netty.shaded.io.netty.buffer.ByteBuf utf8(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.UTF_8));
    }
}
