package io.vigil.server;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The receiving end of a test's gRPC stream: puts each message, then the error or
 * {@link #COMPLETED}, on {@link #received} in the order they came.
 */
final class CollectingObserver<T> implements StreamObserver<T> {
    static final String COMPLETED = "completed";

    final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();

    /**
     * The next thing received: a message, an error or {@link #COMPLETED}. Fails only when nothing
     * came within {@link ClusterClients#PATIENCE}, which is a hang, not a slow answer.
     */
    Object next() throws InterruptedException {
        Object next = received.poll(ClusterClients.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        if (next == null) {
            throw new IllegalStateException("nothing came on the stream within " + ClusterClients.PATIENCE + ": a hang");
        }
        return next;
    }

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
