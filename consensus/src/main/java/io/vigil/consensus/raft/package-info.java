/**
 * Raft consensus as a deterministic, single-threaded state machine.
 *
 * <p>The core owns no threads, clocks, sockets or disks. Time arrives as {@link RawNode#tick()},
 * input as {@link RawNode#step(Message)}, {@link RawNode#propose(byte[])} and friends, and
 * everything the core wants done leaves through one {@link Ready} handoff that the caller
 * acknowledges with {@link RawNode#advance(Ready)}. See {@link Ready} for the persistence and
 * ordering contract.
 *
 * <p>Public API: {@link RawNode}, {@link Config}, {@link Ready}, {@link Message}, {@link Entry},
 * {@link HardState}, {@link SoftState}, {@link Snapshot}, {@link ConfState}, {@link ConfChange},
 * {@link ReadState}, {@link Status}, {@link Storage} and {@link MemoryStorage}. Everything else in
 * this package is package-private implementation.
 */
package io.vigil.consensus.raft;
