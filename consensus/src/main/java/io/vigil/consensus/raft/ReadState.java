package io.vigil.consensus.raft;

/**
 * The answer to a {@link RawNode#readIndex} request: once this node has applied {@code index},
 * reading its state machine is linearizable for the request identified by {@code requestContext}.
 */
public record ReadState(long index, byte[] requestContext) {}
