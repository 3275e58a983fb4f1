package io.vigil.server;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The receiving end of a test's gRPC stream: puts each message, then the error or
 * {@link #COMPLETED}, on {@link #received} in the order they came.
 */
final class CollectingObserver<T> implements StreamObserver<T> {
    static final String COMPLETED = "completed";

    final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();

    @Override
    public void onNext(T value) {
        received.add(value);
    }

    @Override
    public void onError(Throwable t) {
        received.add(t);
    }

    @Override
    public void onCompleted() {
        received.add(COMPLETED);
    }
}
