package io.vigil.consensus.wal;

/**
 * The WAL holds bytes that are not a torn tail: a bad record with data after it, a bad record in
 * a segment that is not the last, or missing segments. The member must not start on it.
 */
public final class WalCorruptException extends IllegalStateException {
  public WalCorruptException(String message) {
    super(message);
  }
}
