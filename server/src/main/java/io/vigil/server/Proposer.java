package io.vigil.server;

import io.vigil.proto.internal.InternalRequest;
import io.vigil.revlog.ApplyResult;
import java.util.concurrent.CompletableFuture;

/**
 * The write path: propose → committed → apply → respond. A request handed to {@link #propose} is
 * appended to the log, applied to the revision log in log order by the one apply thread, and the
 * future completes with what applying it did, once that is durable. {@link ReplicatedLog} is the
 * one implementation (a single member is a one-member cluster); tests may stand in for it.
 *
 * <p>A request whose log entry would be larger than etcd's --max-request-bytes fails at once with
 * etcd's "request is too large", whatever its kind, as etcd checks every proposal it marshals.
 */
public interface Proposer extends AutoCloseable {
    CompletableFuture<ApplyResult> propose(InternalRequest request);

    @Override
    void close();
}
