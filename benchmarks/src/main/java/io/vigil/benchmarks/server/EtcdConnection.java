package io.vigil.benchmarks.server;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code connections} plaintext HTTP/2 connections to one server, handed out round-robin by
 * index; watch streams may go to other members of its cluster instead ({@code watchEndpoints},
 * {@code connections} to each, stream i to member i mod their number). Callbacks run directly on
 * the transport threads: nothing in them may block.
 */
public final class EtcdConnection implements AutoCloseable {
  private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  private final String endpoint;
  private final List<ManagedChannel> channels = new ArrayList<>();
  /** Channel c of watch endpoint e at c * endpoints + e; empty: watches use {@link #channels}. */
  private final List<ManagedChannel> watchChannels = new ArrayList<>();
  private final long rpcTimeoutMs;

  public EtcdConnection(String endpoint, int connections, long rpcTimeoutMs) {
    this(endpoint, List.of(), connections, rpcTimeoutMs);
  }

  public EtcdConnection(String endpoint, List<String> watchEndpoints, int connections, long rpcTimeoutMs) {
    this.endpoint = endpoint;
    this.rpcTimeoutMs = rpcTimeoutMs;
    for (int i = 0; i < connections; i++) {
      channels.add(open(endpoint));
      for (String w : watchEndpoints) {
        watchChannels.add(open(w));
      }
    }
  }

  private static ManagedChannel open(String target) {
    return NettyChannelBuilder.forTarget(target)
        .usePlaintext()
        .directExecutor()
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .build();
  }

  public String endpoint() {
    return endpoint;
  }

  public int connections() {
    return channels.size();
  }

  public ManagedChannel channel(int index) {
    return channels.get(Math.floorMod(index, channels.size()));
  }

  /** Async KV stub on connection {@code index}, with the per-request deadline applied. */
  public KVGrpc.KVStub kv(int index) {
    return KVGrpc.newStub(channel(index)).withDeadlineAfter(rpcTimeoutMs, TimeUnit.MILLISECONDS);
  }

  public KVGrpc.KVBlockingStub kvBlocking(int index) {
    return KVGrpc.newBlockingStub(channel(index)).withDeadlineAfter(rpcTimeoutMs, TimeUnit.MILLISECONDS);
  }

  public LeaseGrpc.LeaseBlockingStub leaseBlocking(int index) {
    return LeaseGrpc.newBlockingStub(channel(index)).withDeadlineAfter(rpcTimeoutMs, TimeUnit.MILLISECONDS);
  }

  /** Stub for long-lived streams: no deadline. */
  public LeaseGrpc.LeaseStub leaseStreaming(int index) {
    return LeaseGrpc.newStub(channel(index));
  }

  /** Stub for long-lived streams: no deadline. */
  public WatchGrpc.WatchStub watch(int index) {
    if (watchChannels.isEmpty()) {
      return WatchGrpc.newStub(channel(index));
    }
    return WatchGrpc.newStub(watchChannels.get(Math.floorMod(index, watchChannels.size())));
  }

  @Override
  public void close() {
    List<ManagedChannel> all = new ArrayList<>(channels);
    all.addAll(watchChannels);
    all.forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel channel : all) {
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
