package io.vigil.benchmarks.scenario;

import io.grpc.stub.StreamObserver;

/** How an asynchronous request reports back to a driver: exactly one call per request. */
public interface Completion {
  void succeeded();

  void failed(Throwable error);

  /** A unary-call observer that completes this on the response or the error. */
  default <T> StreamObserver<T> observer() {
    Completion done = this;
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable error) {
        done.failed(error);
      }

      @Override
      public void onCompleted() {
        done.succeeded();
      }
    };
  }
}
