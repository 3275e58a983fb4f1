package io.vigil.server;

import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.ApplyResult;
import java.util.concurrent.CompletableFuture;

/**
 * The write path: propose → committed → apply → respond. A request handed to {@link #propose} is
 * appended to the log, applied to the revision log in log order by the one apply thread, and the
 * future completes with what applying it did, once that is durable. The single-node implementation
 * is {@link SingleNodeLog}; the Raft-backed one fills the same contract.
 */
public interface Proposer extends AutoCloseable {
    CompletableFuture<ApplyResult> propose(InternalRequest request);

    @Override
    void close();
}
