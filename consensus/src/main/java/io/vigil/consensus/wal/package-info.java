/**
 * The write-ahead log: Raft's entries and hard state in CRC-checked, segmented, append-only files,
 * synced once per save (group commit). Public API: {@link io.vigil.consensus.wal.Wal} and
 * {@link io.vigil.consensus.wal.WalCorruptException}.
 */
package io.vigil.consensus.wal;
