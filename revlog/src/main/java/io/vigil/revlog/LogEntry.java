package io.vigil.revlog;

import io.vigil.proto.internal.InternalRequest;

/** A committed write, in log order: {@code index} is its position in the (Raft) log, from 1. */
public record LogEntry(long index, InternalRequest request) {
}
