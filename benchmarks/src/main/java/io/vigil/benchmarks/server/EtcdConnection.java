package io.vigil.benchmarks.server;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.vigil.proto.etcdserverpb.KVGrpc;
import io.vigil.proto.etcdserverpb.LeaseGrpc;
import io.vigil.proto.etcdserverpb.WatchGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code connections} HTTP/2 connections to one server (plaintext, or TLS and a token: see
 * {@link ClientSecurity}; every call on {@link #channel} carries the token), handed out round-robin by
 * index; watch streams may go to other members of its cluster instead ({@code watchEndpoints},
 * {@code connections} to each, stream i to member i mod their number). Callbacks run directly on
 * the transport threads: nothing in them may block.
 */
public final class EtcdConnection implements AutoCloseable {
  private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  private final String endpoint;
  /** What the calls use: {@link #managed}, each wrapped to carry the token when auth is on. */
  private final List<Channel> channels = new ArrayList<>();
  /** Channel c of watch endpoint e at c * endpoints + e; empty: watches use {@link #channels}. */
  private final List<Channel> watchChannels = new ArrayList<>();
  /** Every connection, for closing. */
  private final List<ManagedChannel> managed = new ArrayList<>();
  private final long rpcTimeoutMs;

  public EtcdConnection(String endpoint, int connections, long rpcTimeoutMs, ClientSecurity security) {
    this(endpoint, List.of(), connections, rpcTimeoutMs, security);
  }

  /** Authenticates (once per endpoint) before it returns when {@code security} has a user. */
  public EtcdConnection(String endpoint, List<String> watchEndpoints, int connections, long rpcTimeoutMs,
      ClientSecurity security) {
    this.endpoint = endpoint;
    this.rpcTimeoutMs = rpcTimeoutMs;
    try {
      open(endpoint, connections, security, channels);
      List<List<Channel>> perEndpoint = new ArrayList<>();
      for (String w : watchEndpoints) {
        List<Channel> opened = new ArrayList<>();
        open(w, connections, security, opened);
        perEndpoint.add(opened);
      }
      for (int c = 0; c < connections; c++) {
        for (List<Channel> opened : perEndpoint) {
          watchChannels.add(opened.get(c));
        }
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void open(String target, int connections, ClientSecurity security, List<Channel> into) {
    List<ManagedChannel> opened = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      ManagedChannel channel = security.builder(target)
          .directExecutor()
          .maxInboundMessageSize(MAX_MESSAGE_BYTES)
          .build();
      managed.add(channel);
      opened.add(channel);
    }
    // one token per endpoint serves all its connections: tokens are the server's state, not a connection's
    String token = security.authenticate(opened.get(0), rpcTimeoutMs);
    for (ManagedChannel channel : opened) {
      into.add(ClientSecurity.carrying(channel, token));
    }
  }

  public String endpoint() {
    return endpoint;
  }

  public int connections() {
    return channels.size();
  }

  public Channel channel(int index) {
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
    managed.forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel channel : managed) {
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
