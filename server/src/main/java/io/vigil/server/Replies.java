package io.vigil.server;

import com.google.protobuf.Message;
import io.grpc.stub.StreamObserver;
import io.vigil.revlog.ApplyResult;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/** Answers a unary call with what its proposal did once applied. */
final class Replies {
    private Replies() {
    }

    /**
     * The applied response stamped by {@code stamp}, or the refusal or failure as etcd's status.
     * Runs on the thread that completes the proposal (the apply thread).
     */
    static <R extends Message> void whenApplied(CompletableFuture<ApplyResult> proposal, StreamObserver<R> out,
                                                Function<R, R> stamp) {
        proposal.whenComplete((ApplyResult result, Throwable failure) -> {
            if (failure != null) {
                out.onError(EtcdErrors.toStatus(failure));
            } else if (result.error() != null) {
                out.onError(EtcdErrors.of(result.error()));
            } else {
                @SuppressWarnings("unchecked")
                R response = (R) result.response();
                out.onNext(stamp.apply(response));
                out.onCompleted();
            }
        });
    }

    /**
     * Answers a unary call of the Lock or Election service with {@code response}, or with
     * {@code failure} as etcd's services answer it ({@link EtcdErrors#viaLocalClient}). A call
     * that already ended (cancelled, or closed by the server as it stops) gets nothing.
     */
    static <R> void answer(StreamObserver<R> out, R response, Throwable failure) {
        try {
            if (failure != null) {
                out.onError(EtcdErrors.viaLocalClient(failure));
            } else {
                out.onNext(response);
                out.onCompleted();
            }
        } catch (RuntimeException ended) {
            // the call ended under us: nobody is there to answer
        }
    }
}
