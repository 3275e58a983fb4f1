package io.vigil.client;

/** What a lease's keep-alive tells, on the client's listener executor. */
public interface LeaseListener {
    /** The lease was renewed: it now lives {@code ttlSeconds} more. */
    default void onRenewed(long leaseId, long ttlSeconds) {
    }

    /**
     * The lease is gone or must be taken as gone: the server said it expired or was revoked, or
     * no renewal succeeded within its TTL. Its keys are (or will shortly be) deleted. Told once;
     * the keep-alive has ended.
     */
    void onLost(long leaseId, String reason);
}
