package io.vigil.client.recipes;

import io.vigil.client.Compare;
import io.vigil.client.KeyValue;
import io.vigil.client.Op;
import io.vigil.client.OpResult;
import io.vigil.client.VigilClient;
import io.vigil.client.VigilException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Leader election as Go's {@code concurrency.Election} has it: a candidate's key is
 * {@code prefix + leaseId} (hex), created under the caller's lease with the candidate's value;
 * the key with the lowest create revision under the prefix is the leader, and its value what the
 * leader proclaims. The lease is the caller's to keep alive; when it is lost the key goes and
 * leadership with it, so a leader's writes should be fenced with {@link #isLeader()} in a
 * transaction's {@code when}.
 *
 * <pre>{@code
 * Election e = new Election(client, "election/scheduler/", lease);
 * e.campaign("node-7", Duration.ofMinutes(5));     // blocks until elected
 * client.kv().txn().when(e.isLeader()).then(Op.put("schedule", plan)).commit();
 * e.resign();
 * }</pre>
 *
 * One Election is one candidate: not for concurrent use. {@link #leader} and {@link #observe}
 * may be used by anyone, candidate or not.
 */
public final class Election {
    private final VigilClient client;
    private final String prefix;
    private final String key;
    private final long leaseId;
    private long createRevision;

    public Election(VigilClient client, String prefix, long leaseId) {
        this.client = client;
        this.prefix = prefix;
        this.key = prefix + Long.toHexString(leaseId);
        this.leaseId = leaseId;
    }

    /**
     * Stands with {@code value} and blocks until elected; on timeout (or interruption) it
     * withdraws and throws. Answers the fencing token: the key's create revision.
     *
     * @throws IllegalStateException if the lease was lost while waiting
     */
    public long campaign(String value, Duration timeout) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Queue.Place place = Queue.enqueue(client, key, value, leaseId);
        long mine = place.createRevision();
        createRevision = mine;
        try {
            if (!place.created()) {
                // a candidate that stood before (same lease) keeps its place and takes the new value
                proclaim(value);
            }
            Queue.awaitPredecessors(client, prefix, mine, deadline);
        } catch (TimeoutException | InterruptedException | RuntimeException e) {
            resign();
            throw e;
        }
        KeyValue now = client.kv().get(key);
        if (now == null || now.createRevision() != mine) {
            createRevision = 0;
            throw new IllegalStateException("the lease " + Long.toHexString(leaseId) + " was lost while campaigning");
        }
        return mine;
    }

    /**
     * The leader tells a new value without an election.
     *
     * @throws IllegalStateException if this candidate is not (any longer) standing
     */
    public void proclaim(String value) {
        OpResult.Txn t = client.kv().txn().when(isLeaderOrCandidate())
                .then(Op.put(key, value).lease(leaseId)).commit();
        if (!t.succeeded()) {
            createRevision = 0;
            throw new IllegalStateException("not standing: " + key + " is gone (its lease was lost?)");
        }
    }

    /** Gives up leadership (or the candidacy): deletes the key if it is still ours. */
    public void resign() {
        if (createRevision == 0) {
            return;
        }
        try {
            client.kv().txn().when(isLeaderOrCandidate()).then(Op.delete(key)).commit();
        } catch (VigilException e) {
            // unreachable: the key goes with the lease at the latest
        }
        createRevision = 0;
    }

    /**
     * The condition that this candidate still leads (its key is the one it created): for a
     * transaction's {@code when}, after {@link #campaign} returned.
     */
    public Compare isLeader() {
        return isLeaderOrCandidate();
    }

    /** The create revision of our key after a successful campaign (0 otherwise). */
    public long fencingToken() {
        return createRevision;
    }

    /** The leader's key and value now, or null when nobody leads. */
    public KeyValue leader() {
        return Queue.first(client, prefix);
    }

    /**
     * Tells {@code listener}, on {@code executor}, each change of leader or of the leader's value
     * (null: nobody leads), until the returned handle is closed.
     */
    public AutoCloseable observe(Executor executor, Consumer<KeyValue> listener) {
        Informer<KeyValue> candidates = new Informer<>(client, prefix, kv -> kv, executor);
        candidates.addHandler(new Informer.Handler<>() {
            private KeyValue told;

            private void changed() {
                KeyValue leader = null;
                for (KeyValue kv : candidates.list()) {
                    if (leader == null || kv.createRevision() < leader.createRevision()) {
                        leader = kv;
                    }
                }
                if (!sameLeaderAndValue(leader, told)) {
                    told = leader;
                    listener.accept(leader);
                }
            }

            @Override
            public void onAdd(KeyValue now) {
                changed();
            }

            @Override
            public void onUpdate(KeyValue old, KeyValue now) {
                changed();
            }

            @Override
            public void onDelete(KeyValue last) {
                changed();
            }
        });
        candidates.start();
        return candidates;
    }

    private static boolean sameLeaderAndValue(KeyValue a, KeyValue b) {
        return a == null ? b == null : b != null && a.createRevision() == b.createRevision() && a.key().equals(b.key())
                && a.value().equals(b.value());
    }

    private Compare isLeaderOrCandidate() {
        if (createRevision == 0) {
            throw new IllegalStateException("not campaigning");
        }
        return Compare.createRevision(key).equalTo(createRevision);
    }
}
