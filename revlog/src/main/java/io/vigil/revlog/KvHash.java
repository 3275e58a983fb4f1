package io.vigil.revlog;

/**
 * etcd's HashKV answer: {@code hash} is the CRC-32C of the store's key-value history through
 * {@code hashRevision} at compaction {@code compactRevision} (see {@link RevLog#hashKv} for what
 * exactly is hashed); {@code revision} is the current revision when it was asked (the response
 * header's).
 */
public record KvHash(int hash, long revision, long compactRevision, long hashRevision) {
}
