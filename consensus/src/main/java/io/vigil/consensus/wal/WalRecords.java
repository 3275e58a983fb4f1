package io.vigil.consensus.wal;

import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.EntryType;
import io.vigil.consensus.raft.HardState;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The record format of a WAL segment: {@code [u32 length][u32 crc32c][u8 type][body]}, big-endian,
 * where {@code length} counts type and body and the CRC covers them.
 *
 * <ul>
 *   <li>ENTRY body: term u64, index u64, entry type u8, data (the rest)</li>
 *   <li>STATE body: term u64, vote u64, commit u64</li>
 * </ul>
 */
final class WalRecords {
  static final byte ENTRY = 1;
  static final byte STATE = 2;
  static final int HEADER_SIZE = 8;
  static final int ENTRY_FIXED = 1 + 8 + 8 + 1;
  static final int STATE_BODY = 1 + 8 + 8 + 8;
  static final int STATE_SIZE = HEADER_SIZE + STATE_BODY;

  private WalRecords() {
  }

  /** One replayed record: exactly one of entry and state is set. */
  record Record(Entry entry, HardState state) {
  }

  static int entrySize(Entry e) {
    return HEADER_SIZE + ENTRY_FIXED + e.data().length;
  }

  static void putEntry(ByteBuffer buf, Entry e) {
    int start = buf.position();
    buf.putInt(ENTRY_FIXED + e.data().length).putInt(0);
    buf.put(ENTRY).putLong(e.term()).putLong(e.index()).put((byte) e.type().ordinal()).put(e.data());
    sealCrc(buf, start);
  }

  static void putState(ByteBuffer buf, HardState s) {
    int start = buf.position();
    buf.putInt(STATE_BODY).putInt(0);
    buf.put(STATE).putLong(s.term()).putLong(s.vote()).putLong(s.commit());
    sealCrc(buf, start);
  }

  private static void sealCrc(ByteBuffer buf, int start) {
    int end = buf.position();
    buf.putInt(start + 4, crc(buf, start + HEADER_SIZE, end));
  }

  private static int crc(ByteBuffer buf, int from, int to) {
    CRC32C c = new CRC32C();
    c.update(buf.duplicate().limit(to).position(from));
    return (int) c.getValue();
  }

  /**
   * Reads a segment's records in order. In the last segment, a record cut short by the end of the
   * file, or a bad record after which the file holds nothing but zeros, is a torn write (a save
   * that never returned): reading stops before it ({@link #validBytes}). Anything else that does
   * not check out is corruption.
   */
  static final class Reader {
    private final ByteBuffer buf;
    private final String name;
    private final boolean lastSegment;
    private int valid;

    Reader(ByteBuffer buf, String name, boolean lastSegment) {
      this.buf = buf;
      this.name = name;
      this.lastSegment = lastSegment;
    }

    int validBytes() {
      return valid;
    }

    /** The next record, or null at the end (or at a torn tail). */
    Record next() {
      int at = valid;
      int size = buf.limit();
      if (at == size) {
        return null;
      }
      if (size - at < HEADER_SIZE) {
        return torn(true, at, "a record header is cut short");
      }
      int length = buf.getInt(at);
      int storedCrc = buf.getInt(at + 4);
      if (length < 0 || length > size - at - HEADER_SIZE) {
        return torn(true, at, "a record of length " + length + " runs past the end");
      }
      if (length == 0) {
        return torn(zerosFrom(at), at, "a record of length 0");
      }
      int body = at + HEADER_SIZE;
      if (crc(buf, body, body + length) != storedCrc) {
        return torn(zerosFrom(body + length), at, "a record fails its CRC");
      }
      Record r = decode(body, length, at);
      valid = body + length;
      return r;
    }

    private Record decode(int body, int length, int at) {
      byte type = buf.get(body);
      ByteBuffer b = buf.duplicate().position(body + 1).limit(body + length);
      if (type == STATE && length == STATE_BODY) {
        return new Record(null, new HardState(b.getLong(), b.getLong(), b.getLong()));
      }
      if (type == ENTRY && length >= ENTRY_FIXED) {
        long term = b.getLong();
        long index = b.getLong();
        int entryType = b.get();
        if (entryType >= 0 && entryType < EntryType.values().length) {
          byte[] data = new byte[b.remaining()];
          b.get(data);
          return new Record(new Entry(term, index, EntryType.values()[entryType], data), null);
        }
      }
      throw new WalCorruptException(name + ": unknown record at offset " + at);
    }

    /**
     * Stops at a torn tail: in the last segment, a bad record with nothing but zeros (or nothing)
     * after it. Anywhere else, or with data after it, the bad bytes are corruption.
     */
    private Record torn(boolean nothingAfter, int at, String what) {
      if (lastSegment && nothingAfter) {
        return null;
      }
      throw new WalCorruptException(name + ": " + what + " at offset " + at);
    }

    private boolean zerosFrom(int from) {
      for (int i = Math.min(from, buf.limit()); i < buf.limit(); i++) {
        if (buf.get(i) != 0) {
          return false;
        }
      }
      return true;
    }
  }
}
