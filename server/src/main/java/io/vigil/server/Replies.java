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
}
