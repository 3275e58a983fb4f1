package io.vigil.benchmarks.ceiling;

import com.google.protobuf.ByteString;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.util.concurrent.EventExecutor;
import io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.PutResponse;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A measuring instrument, not a server: the least work a grpc-java server can do for the
 * {@code watch-fanout} scenario, so that one side-by-side run against etcd tells how far any server
 * on this transport can get on this machine with this load generator.
 *
 * <p>It serves only {@code KV.Put} and single-key {@code Watch} creates. A put takes the next
 * revision and, under one lock (so each stream gets revisions in order), queues one WatchResponse
 * per watcher of that key, made of three shared byte arrays (header, watch id, event) encoded once
 * per put. Nothing is stored, nothing is durable; every other RPC is UNIMPLEMENTED.
 *
 * <p>Its transport is Vigil's: grpc-java's netty server with {@code directExecutor}, responses
 * written by their connection's event loop while the call {@code isReady}, through a marshaller that
 * drains the shared parts without re-encoding. What it leaves out is everything Vigil does besides:
 * the revision log, the WAL, the watch hub's registry, merging, catch-up and metrics.
 *
 * <p>Memory: once {@link #MAX_QUEUED_BYTES} wait in stream queues, put replies are held back until
 * the queues drain below half of that, so closed-loop writers slow down instead of the heap growing.
 */
public final class GrpcCeilingServer implements AutoCloseable {
  static final long MAX_QUEUED_BYTES = 256L << 20;

  private final Server grpc;
  private final Object lock = new Object();
  // ---- guarded by lock ----
  private long revision = 1;
  private final Map<ByteString, List<Watcher>> watchersByKey = new HashMap<>();
  private final Map<ByteString, long[]> createAndVersion = new HashMap<>();

  private final AtomicLong queuedBytes = new AtomicLong();
  private final ConcurrentLinkedQueue<Runnable> heldReplies = new ConcurrentLinkedQueue<>();

  private record Watcher(Stream stream, ByteString key, byte[] idField) {}

  private GrpcCeilingServer(InetSocketAddress address) throws IOException {
    MethodDescriptor<WatchRequest, byte[][]> watch = MethodDescriptor.<WatchRequest, byte[][]>newBuilder()
        .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
        .setFullMethodName(WatchGrpc.getWatchMethod().getFullMethodName())
        .setRequestMarshaller(ProtoUtils.marshaller(WatchRequest.getDefaultInstance()))
        .setResponseMarshaller(new PartsMarshaller())
        .build();
    ServerServiceDefinition watchService = ServerServiceDefinition.builder(WatchGrpc.SERVICE_NAME)
        .addMethod(watch, ServerCalls.asyncBidiStreamingCall(
            responses -> new Stream((ServerCallStreamObserver<byte[][]>) responses).requests()))
        .build();
    grpc = NettyServerBuilder.forAddress(address)
        .permitKeepAliveTime(1, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .directExecutor()
        .addService(new Kv())
        .addService(watchService)
        .build()
        .start();
  }

  /** Serves on {@code address} (port 0: a free one) until {@link #close}. */
  public static GrpcCeilingServer start(InetSocketAddress address) throws IOException {
    return new GrpcCeilingServer(address);
  }

  public int port() {
    return ((InetSocketAddress) grpc.getListenSockets().get(0)).getPort();
  }

  @Override
  public void close() throws InterruptedException {
    grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  /** {@code GrpcCeilingServer HOST:PORT}: serves until killed. */
  public static void main(String[] args) throws Exception {
    if (args.length != 1 || !args[0].contains(":")) {
      System.err.println("usage: GrpcCeilingServer HOST:PORT");
      System.exit(2);
    }
    String hostPort = args[0];
    int colon = hostPort.lastIndexOf(':');
    GrpcCeilingServer server = start(new InetSocketAddress(hostPort.substring(0, colon),
        Integer.parseInt(hostPort.substring(colon + 1))));
    System.err.println("grpc-ceiling: serving KV.Put and Watch (measuring instrument, stores nothing) on "
        + hostPort.substring(0, colon) + ":" + server.port() + ", pid " + ProcessHandle.current().pid());
    server.grpc.awaitTermination();
  }

  private static ResponseHeader header(long revision) {
    return ResponseHeader.newBuilder().setClusterId(1).setMemberId(1).setRevision(revision).setRaftTerm(1).build();
  }

  private final class Kv extends KVGrpc.KVImplBase {
    @Override
    public void put(PutRequest request, StreamObserver<PutResponse> reply) {
      Set<Stream> touched = new LinkedHashSet<>();
      long rev;
      synchronized (lock) {
        rev = ++revision;
        long[] cv = createAndVersion.computeIfAbsent(request.getKey(), k -> new long[] {rev, 0});
        cv[1]++;
        List<Watcher> watchers = watchersByKey.get(request.getKey());
        if (watchers != null) {
          byte[] headerField = WatchResponse.newBuilder().setHeader(header(rev)).build().toByteArray();
          byte[] eventField = WatchResponse.newBuilder().addEvents(Event.newBuilder()
              .setType(Event.EventType.PUT)
              .setKv(KeyValue.newBuilder().setKey(request.getKey()).setValue(request.getValue())
                  .setCreateRevision(cv[0]).setModRevision(rev).setVersion(cv[1])))
              .build().toByteArray();
          for (Watcher w : watchers) {
            w.stream.enqueue(new byte[][] {headerField, w.idField, eventField});
            touched.add(w.stream);
          }
        }
      }
      touched.forEach(Stream::drainSoon);
      Runnable answer = () -> {
        reply.onNext(PutResponse.newBuilder().setHeader(header(rev)).build());
        reply.onCompleted();
      };
      if (queuedBytes.get() < MAX_QUEUED_BYTES) {
        answer.run();
      } else {
        heldReplies.add(answer);
        releaseHeldReplies(); // the queues may have drained in between
      }
    }
  }

  private void releaseHeldReplies() {
    Runnable held;
    while (queuedBytes.get() < MAX_QUEUED_BYTES / 2 && (held = heldReplies.poll()) != null) {
      held.run();
    }
  }

  /** One Watch call: its watchers' responses wait in {@code outbound} until the call is ready. */
  private final class Stream {
    private final ServerCallStreamObserver<byte[][]> call;
    private final EventExecutor loop;
    private final List<Watcher> own = new ArrayList<>();
    private long nextWatchId;
    private final ArrayDeque<byte[][]> outbound = new ArrayDeque<>();
    private boolean closed;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();

    Stream(ServerCallStreamObserver<byte[][]> call) {
      this.call = call;
      this.loop = ThreadExecutorMap.currentExecutor();
      if (loop == null) {
        throw new IllegalStateException("the ceiling sends on the call's event loop: netty transport, directExecutor");
      }
      call.setOnReadyHandler(this::drain);
      call.setOnCancelHandler(this::close);
    }

    StreamObserver<WatchRequest> requests() {
      return new StreamObserver<>() {
        @Override
        public void onNext(WatchRequest request) {
          if (request.hasCreateRequest()) {
            create(request.getCreateRequest());
          } else {
            call.onError(Status.UNIMPLEMENTED
                .withDescription("grpc-ceiling only creates watches").asRuntimeException());
            close();
          }
        }

        @Override
        public void onError(Throwable t) {
          close();
        }

        @Override
        public void onCompleted() {}
      };
    }

    private void create(WatchCreateRequest request) {
      if (!request.getRangeEnd().isEmpty() || request.getStartRevision() != 0) {
        call.onError(Status.UNIMPLEMENTED
            .withDescription("grpc-ceiling watches single keys from now").asRuntimeException());
        close();
        return;
      }
      synchronized (lock) {
        long id = nextWatchId++;
        Watcher w = new Watcher(this, request.getKey(), WatchResponse.newBuilder().setWatchId(id).build().toByteArray());
        own.add(w);
        watchersByKey.computeIfAbsent(request.getKey(), k -> new ArrayList<>()).add(w);
        // queued under the lock: no event of this watcher can come before its "created"
        enqueue(new byte[][] {WatchResponse.newBuilder().setHeader(header(revision)).setWatchId(id)
            .setCreated(true).build().toByteArray()});
      }
      drainSoon();
    }

    void enqueue(byte[][] parts) {
      synchronized (outbound) {
        if (closed) {
          return;
        }
        outbound.add(parts);
      }
      queuedBytes.addAndGet(size(parts));
    }

    void drainSoon() {
      if (drainScheduled.compareAndSet(false, true)) {
        loop.execute(() -> {
          drainScheduled.set(false);
          drain();
        });
      }
    }

    /** On the call's event loop only (directExecutor), so never two at once. */
    private void drain() {
      long sent = 0;
      while (call.isReady()) {
        byte[][] next;
        synchronized (outbound) {
          next = outbound.poll();
        }
        if (next == null) {
          break;
        }
        sent += size(next);
        call.onNext(next);
      }
      if (sent > 0) {
        queuedBytes.addAndGet(-sent);
        releaseHeldReplies();
      }
    }

    private void close() {
      synchronized (lock) {
        Set<ByteString> keys = new LinkedHashSet<>();
        own.forEach(w -> keys.add(w.key));
        for (ByteString key : keys) {
          watchersByKey.get(key).removeIf(w -> w.stream == this);
        }
        own.clear();
      }
      long dropped = 0;
      synchronized (outbound) {
        closed = true;
        for (byte[][] parts : outbound) {
          dropped += size(parts);
        }
        outbound.clear();
      }
      queuedBytes.addAndGet(-dropped);
      releaseHeldReplies();
    }
  }

  private static int size(byte[][] parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    return n;
  }

  /** Writes the parts of a response straight to the transport, as Vigil's WatchService does. */
  private static final class PartsMarshaller implements MethodDescriptor.Marshaller<byte[][]> {
    @Override
    public InputStream stream(byte[][] parts) {
      return new PartsStream(parts);
    }

    @Override
    public byte[][] parse(InputStream stream) {
      throw new UnsupportedOperationException("only sends");
    }
  }

  private static final class PartsStream extends InputStream implements Drainable, KnownLength {
    private final byte[][] parts;
    private InputStream copy;

    PartsStream(byte[][] parts) {
      this.parts = parts;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      for (byte[] p : parts) {
        target.write(p);
      }
      return size(parts);
    }

    @Override
    public int available() throws IOException {
      return copy == null ? size(parts) : copy.available();
    }

    @Override
    public int read() throws IOException {
      return bytes().read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return bytes().read(b, off, len);
    }

    private InputStream bytes() {
      if (copy == null) {
        byte[] all = new byte[size(parts)];
        int at = 0;
        for (byte[] p : parts) {
          System.arraycopy(p, 0, all, at, p.length);
          at += p.length;
        }
        copy = new ByteArrayInputStream(all);
      }
      return copy;
    }
  }
}
