package io.vigil.consensus.raft;

/** What an entry's data holds. */
public enum EntryType {
  /** Application data (or empty: the leader's no-op on election). */
  NORMAL,
  /**
   * An encoded {@link ConfChange}; the application calls {@link RawNode#applyConfChange} when
   * applying it.
   */
  CONF_CHANGE
}
