package io.vigil.revlog;

/**
 * etcd's Hash answer: the CRC-32C of the whole replicated store as of {@code revision} (see
 * {@link RevLog#hash} for what is hashed).
 */
public record StoreHash(int hash, long revision) {
}
