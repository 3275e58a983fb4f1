package io.vigil.client.recipes;

import io.vigil.client.Compare;
import io.vigil.client.KeyValue;
import io.vigil.client.Op;
import io.vigil.client.VigilClient;
import io.vigil.client.VigilException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * A distributed lock as Go's {@code concurrency.Mutex} has it: the contender's key is
 * {@code prefix + leaseId} (hex), created under the caller's lease; the lowest create revision
 * under the prefix holds the lock, and each waiter waits for the deletion of the key just before
 * its own. The lease is the caller's to keep alive ({@code client.leases().keepAlive}); when it
 * is lost the key goes and the lock with it, so work done under the lock must be fenced:
 *
 * <pre>{@code
 * Lock lock = new Lock(client, "locks/report/", lease);
 * lock.lock(Duration.ofSeconds(30));
 * try {
 *     // a write that only happens while we still hold the lock
 *     client.kv().txn().when(lock.held()).then(Op.put("report", text)).commit();
 * } finally {
 *     lock.unlock();
 * }
 * }</pre>
 *
 * The fencing token is the key's create revision ({@link #fencingToken()}): it grows with every
 * acquisition, so a resource told the token can refuse a holder older than one it has seen.
 * One Lock is one contender: not reentrant, not for concurrent use.
 */
public final class Lock {
    private final VigilClient client;
    private final String prefix;
    private final String key;
    private final long leaseId;
    private long createRevision;

    public Lock(VigilClient client, String prefix, long leaseId) {
        this.client = client;
        this.prefix = prefix;
        this.key = prefix + Long.toHexString(leaseId);
        this.leaseId = leaseId;
    }

    /**
     * Blocks until the lock is held; answers the fencing token. On timeout (or interruption) it
     * leaves the queue and throws.
     *
     * @throws IllegalStateException if the lease was lost while waiting
     */
    public long lock(Duration timeout) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long mine = Queue.enqueue(client, key, "", leaseId).createRevision();
        try {
            Queue.awaitPredecessors(client, prefix, mine, deadline);
        } catch (TimeoutException | InterruptedException | RuntimeException e) {
            leave(mine);
            throw e;
        }
        KeyValue now = client.kv().get(key);
        if (now == null || now.createRevision() != mine) {
            throw new IllegalStateException("the lease " + Long.toHexString(leaseId) + " was lost while waiting for " + key);
        }
        createRevision = mine;
        return mine;
    }

    /** Releases the lock (deletes the key, if it is still ours). */
    public void unlock() {
        leave(createRevision);
        createRevision = 0;
    }

    /** The condition that this contender holds the lock: for a transaction's {@code when}. */
    public Compare held() {
        if (createRevision == 0) {
            throw new IllegalStateException("not locked");
        }
        return Compare.createRevision(key).equalTo(createRevision);
    }

    /** The create revision of the lock's key while held (0 otherwise). */
    public long fencingToken() {
        return createRevision;
    }

    public String key() {
        return key;
    }

    /** Deletes the key if it is the one created at {@code mine}. */
    private void leave(long mine) {
        if (mine == 0) {
            return;
        }
        try {
            client.kv().txn().when(Compare.createRevision(key).equalTo(mine))
                    .then(Op.delete(key)).commit();
        } catch (VigilException e) {
            // unreachable: the key goes with the lease at the latest
        }
    }
}
