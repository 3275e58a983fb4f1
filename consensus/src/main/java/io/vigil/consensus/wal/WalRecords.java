package io.vigil.consensus.wal;

import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.EntryType;
import io.vigil.consensus.raft.HardState;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The record format of a WAL segment, big-endian:
 * {@code [u32 crc32c][u32 length][u32 saveStart][u32 saveEnd][u8 type][body]}, where
 * {@code length} counts type and body, and the CRC covers every byte of the record after itself
 * (length, save bounds, type, body), so a damaged length is caught like a damaged body.
 *
 * <p>{@code [saveStart, saveEnd)} is the byte range, in its segment, of the {@link Wal#save} that
 * wrote the record: every record of a save carries the same bounds and the save's last record ends
 * at {@code saveEnd}. They let recovery tell a torn write of the last save from damage to a save
 * that was acknowledged (see {@link Reader}). The CRC comes first so that a record's first bytes
 * are rarely zero, which keeps a real record from looking like an unwritten sector.
 *
 * <ul>
 *   <li>ENTRY body: term u64, index u64, entry type u8, data (the rest)</li>
 *   <li>STATE body: term u64, vote u64, commit u64</li>
 * </ul>
 */
final class WalRecords {
  static final byte ENTRY = 1;
  static final byte STATE = 2;
  static final int HEADER_SIZE = 16;
  static final int ENTRY_FIXED = 1 + 8 + 8 + 1;
  static final int STATE_BODY = 1 + 8 + 8 + 8;
  static final int STATE_SIZE = HEADER_SIZE + STATE_BODY;
  /** The unit a disk writes whole or not at all (etcd's torn-write check uses the same). */
  static final int SECTOR = 512;

  private WalRecords() {
  }

  /** One replayed record: exactly one of entry and state is set. */
  record Record(Entry entry, HardState state) {
  }

  static int entrySize(Entry e) {
    return HEADER_SIZE + ENTRY_FIXED + e.data().length;
  }

  /** Puts {@code e} as a record of the save that occupies {@code [saveStart, saveEnd)}. */
  static void putEntry(ByteBuffer buf, Entry e, int saveStart, int saveEnd) {
    int start = buf.position();
    buf.putInt(0).putInt(ENTRY_FIXED + e.data().length).putInt(saveStart).putInt(saveEnd);
    buf.put(ENTRY).putLong(e.term()).putLong(e.index()).put((byte) e.type().ordinal()).put(e.data());
    sealCrc(buf, start);
  }

  static void putState(ByteBuffer buf, HardState s, int saveStart, int saveEnd) {
    int start = buf.position();
    buf.putInt(0).putInt(STATE_BODY).putInt(saveStart).putInt(saveEnd);
    buf.put(STATE).putLong(s.term()).putLong(s.vote()).putLong(s.commit());
    sealCrc(buf, start);
  }

  private static void sealCrc(ByteBuffer buf, int start) {
    buf.putInt(start, crc(buf, start + 4, buf.position()));
  }

  private static int crc(ByteBuffer buf, int from, int to) {
    CRC32C c = new CRC32C();
    c.update(buf.duplicate().limit(to).position(from));
    return (int) c.getValue();
  }

  /**
   * A record's header as found at an offset, unchecked: {@code recordEnd} may lie past the file
   * when the length is nonsense; {@code type} is 0 when the file ends before it.
   */
  private record Header(int at, int length, int saveStart, int saveEnd, byte type) {
    long recordEnd() {
      return (long) at + HEADER_SIZE + length;
    }
  }

  /**
   * Reads a segment's records, a whole save at a time: the records of a save are returned only
   * once all of them checked out, so a save is replayed entirely or not at all.
   *
   * <p>A bad record (a header or CRC that does not check out, or a file that ends inside a save)
   * is a torn write, and reading stops at the start of its save ({@link #validBytes}), only when
   * all of these hold; otherwise it is corruption ({@link WalCorruptException}, naming the segment
   * and the offset):
   *
   * <ol>
   *   <li>the segment is the last one;</li>
   *   <li>no valid record of another save follows it: a later save was written only after this
   *       one was synced, so this one was acknowledged and must read back whole;</li>
   *   <li>nothing but zeros follows the end of its save (its {@code saveEnd}, when a record that
   *       checks out tells it, or the bad record's header lying wholly in written sectors);</li>
   *   <li>the bad record holds a sector that the save did not get to write: the file ends inside
   *       the record, or one of the 512-byte sectors the record overlaps is all zeros from the
   *       save's start on. Disks write sectors whole, and the space past the synced end holds
   *       zeros (preallocated) or nothing, so damage to written bytes (a flipped bit, garbage)
   *       never passes for a torn write.</li>
   * </ol>
   *
   * <p>A save that never started (only zeros, or nothing, from a save boundary on) ends the log.
   * What this cannot tell apart: an acknowledged last save damaged exactly where it holds a
   * sector's worth of real zeros, and then nothing but zeros after it, is cut as torn (etcd's
   * check has the same blind spot).
   */
  static final class Reader {
    private final ByteBuffer buf;
    private final String name;
    private final boolean lastSegment;
    private final ArrayDeque<Record> ready = new ArrayDeque<>();
    private int valid;
    private boolean done;

    Reader(ByteBuffer buf, String name, boolean lastSegment) {
      this.buf = buf;
      this.name = name;
      this.lastSegment = lastSegment;
    }

    /** The end of the last whole save read so far: the file's length once the reader is done. */
    int validBytes() {
      return valid;
    }

    /** The next record, or null at the end (or at a torn tail). */
    Record next() {
      while (ready.isEmpty() && !done) {
        readSave();
      }
      return ready.poll();
    }

    /** Reads the save that starts at {@link #valid}, or finds the end of the segment there. */
    private void readSave() {
      int start = valid;
      int size = buf.limit();
      if (start == size || (lastSegment && firstNonZero(start) < 0)) {
        done = true;
        return;
      }
      List<Record> records = new ArrayList<>();
      int end = -1;
      int at = start;
      while (end < 0 || at < end) {
        Header h = header(at);
        String problem = problem(h, at, start, end);
        if (problem != null) {
          badRecord(h, at, start, end, problem);
          done = true;
          return;
        }
        records.add(decode(h));
        end = h.saveEnd();
        at = (int) h.recordEnd();
      }
      ready.addAll(records);
      valid = end;
    }

    /** Why the record at {@code at} is not the next record of the save {@code [start, end)}. */
    private String problem(Header h, int at, int start, int end) {
      if (h == null) {
        return at >= buf.limit() ? "the file ends inside a save" : "a record header is cut short";
      }
      if (h.saveStart() != start || (end >= 0 && h.saveEnd() != end) || h.length() < 1
          || h.saveEnd() < h.recordEnd()) {
        return "a record header does not check out";
      }
      if (h.recordEnd() > buf.limit()) {
        return "a record runs past the end of the file";
      }
      if (!crcMatches(h)) {
        return "a record fails its CRC";
      }
      return null;
    }

    private void badRecord(Header h, int at, int start, int end, String problem) {
      String where = name + ": " + problem + " at offset " + at;
      if (!lastSegment) {
        throw new WalCorruptException(where + ", in a segment that is not the last");
      }
      // The bad record's CRC failed, so its header is unverified: its bounds are used only when
      // they are plausible and no sector the header lies in is unwritten, since a zero sector
      // may have cut any of its fields (a saveEnd with a zeroed low byte named a save that ends
      // elsewhere, and the save's own later records looked like another save's).
      boolean headerTrusted = h != null && h.saveStart() == start && (end < 0 || h.saveEnd() == end)
          && h.length() >= 1 && h.saveEnd() >= h.recordEnd() && !unwrittenSector(start, at, at + HEADER_SIZE);
      int saveEnd = end >= 0 ? end : headerTrusted ? h.saveEnd() : -1;
      int size = buf.limit();
      for (int p = at + 1; p <= size - HEADER_SIZE; p++) {
        Header later = header(p);
        if (later.length() < 1 || later.recordEnd() > size || later.saveStart() < 0 || later.saveStart() > p
            || later.saveEnd() < later.recordEnd() || (later.type() != ENTRY && later.type() != STATE)
            || !crcMatches(later)) {
          continue;
        }
        if (later.saveStart() != start || (saveEnd >= 0 && later.saveEnd() != saveEnd)) {
          throw new WalCorruptException(where + ", and a valid record of another save follows at offset " + p
              + ": the damaged save was acknowledged");
        }
        saveEnd = later.saveEnd();
        p = (int) later.recordEnd() - 1;
      }
      if (saveEnd >= 0 && saveEnd < size) {
        int data = firstNonZero(saveEnd);
        if (data >= 0) {
          throw new WalCorruptException(where + ", and data follows the end of its save, at offset " + data
              + ": not a torn write");
        }
      }
      long extentEnd = headerTrusted ? h.recordEnd() : (long) at + HEADER_SIZE;
      if (!unwrittenSector(start, at, extentEnd)) {
        throw new WalCorruptException(where + ", and every sector of it was written: damage, not a torn write");
      }
    }

    /**
     * Whether the save starting at {@code start} did not get to write some sector of the bytes
     * {@code [from, to)}: the file ends before {@code to}, or a sector they overlap is all zeros
     * from the save's start (its bytes below {@code start} belong to earlier saves).
     */
    private boolean unwrittenSector(int start, int from, long to) {
      int size = buf.limit();
      if (to > size) {
        return true;
      }
      for (long sector = (long) from / SECTOR * SECTOR; sector < to; sector += SECTOR) {
        int lo = (int) Math.max(sector, start);
        int hi = (int) Math.min(sector + SECTOR, size);
        if (allZero(lo, hi)) {
          return true;
        }
      }
      return false;
    }

    private Header header(int at) {
      if (at < 0 || buf.limit() - at < HEADER_SIZE) {
        return null;
      }
      byte type = at + HEADER_SIZE < buf.limit() ? buf.get(at + HEADER_SIZE) : 0;
      return new Header(at, buf.getInt(at + 4), buf.getInt(at + 8), buf.getInt(at + 12), type);
    }

    private boolean crcMatches(Header h) {
      return crc(buf, h.at() + 4, (int) h.recordEnd()) == buf.getInt(h.at());
    }

    private Record decode(Header h) {
      int body = h.at() + HEADER_SIZE;
      int length = h.length();
      ByteBuffer b = buf.duplicate().position(body + 1).limit(body + length);
      byte type = buf.get(body);
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
      throw new WalCorruptException(name + ": unknown record at offset " + h.at());
    }

    /** The offset of the first byte at or after {@code from} that is not zero, or -1. */
    private int firstNonZero(int from) {
      for (int i = from; i < buf.limit(); i++) {
        if (buf.get(i) != 0) {
          return i;
        }
      }
      return -1;
    }

    private boolean allZero(int from, int to) {
      for (int i = from; i < to; i++) {
        if (buf.get(i) != 0) {
          return false;
        }
      }
      return true;
    }
  }
}
