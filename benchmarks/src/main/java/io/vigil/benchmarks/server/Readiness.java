package io.vigil.benchmarks.server;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.vigil.proto.etcdserverpb.MaintenanceGrpc;
import io.vigil.proto.etcdserverpb.StatusRequest;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Waits until a server answers Maintenance.Status, and reads its version string (Status needs no
 * token even with auth on, as in etcd).
 */
public final class Readiness {
  private Readiness() {}

  /**
   * Polls every 200 ms until Status answers (UNIMPLEMENTED counts as an answer: the server speaks
   * gRPC), {@code timeoutMs} passes, or {@code stillRunning} turns false (the process died).
   */
  public static void await(String endpoint, ClientSecurity security, long timeoutMs, BooleanSupplier stillRunning)
      throws InterruptedException {
    long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    ManagedChannel channel = security.builder(endpoint).build();
    try {
      StatusRuntimeException last = null;
      while (System.nanoTime() < deadlineNs) {
        if (!stillRunning.getAsBoolean()) {
          throw new IllegalStateException("server for " + endpoint + " exited before it answered");
        }
        try {
          MaintenanceGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
              .status(StatusRequest.getDefaultInstance());
          return;
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
            return; // it speaks gRPC, it just has no Maintenance service yet
          }
          last = e;
        }
        Thread.sleep(200);
      }
      throw new IllegalStateException("server at " + endpoint + " did not answer Status within "
          + timeoutMs + " ms; last error: " + (last == null ? "none" : last.getStatus()));
    } finally {
      channel.shutdownNow();
    }
  }

  /** The server's version, or a note when it does not answer Status (e.g. not implemented yet). */
  public static String version(String endpoint, ClientSecurity security) {
    ManagedChannel channel = security.builder(endpoint).build();
    try {
      return MaintenanceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
          .status(StatusRequest.getDefaultInstance()).getVersion();
    } catch (StatusRuntimeException e) {
      return "unknown (" + e.getStatus().getCode() + ")";
    } finally {
      channel.shutdownNow();
    }
  }
}
