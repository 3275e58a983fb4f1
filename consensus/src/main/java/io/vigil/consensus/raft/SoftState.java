package io.vigil.consensus.raft;

/**
 * Volatile state that is useful to the caller (logging, routing) but need not be persisted.
 *
 * @param leaderId the current leader as this node believes, or 0 if unknown
 * @param role this node's role
 */
public record SoftState(long leaderId, StateRole role) {}
