package io.vigil.consensus.wal;

import io.vigil.consensus.raft.Entry;
import io.vigil.consensus.raft.HardState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * The write-ahead log of Raft's entries and hard state: the durability point of a member.
 *
 * <p>Layout: a directory of segment files {@code <seq>-<firstIndex>.wal} (16 hex digits each),
 * written in order; {@code firstIndex} is the index of the first entry the segment may hold. Each
 * segment starts with the hard state at the time it was cut, so older segments can be deleted
 * without losing it. Records are
 * {@code [u32 crc32c][u32 length][u32 saveStart][u32 saveEnd][u8 type][body]}, each naming the
 * byte range of the save that wrote it (see {@link WalRecords}).
 *
 * <p>Durability: {@link #save} writes its records with one write and then one
 * {@code fdatasync}; when it returns they survive a crash of the process or the machine. Replay
 * takes a save whole or not at all. A crash in the middle of a save may leave any of its 512-byte
 * sectors unwritten (zeros), in any pattern, or the file short; {@link #open} cuts that save off
 * (it was never acknowledged). Bytes of an acknowledged save read back whole or fail the open
 * ({@link WalCorruptException}, naming the segment and the offset): a save is taken as
 * acknowledged when anything follows it, and damage that is not an unwritten sector is never taken
 * for a torn write.
 *
 * <p>Raft's log rewrite: an entry saved at an index at or below the last one replaces that entry
 * and every later one. The old records stay on disk; on replay, later records win.
 *
 * <p>Failure: when a write or sync fails, the WAL takes no more saves (etcd stops the member
 * then too); reopening it cuts off the save the failure tore.
 *
 * <p>Threads: one thread at a time (the member's Raft loop).
 */
public final class Wal implements AutoCloseable {
  /** Segments are cut once they pass this size (etcd's segment size). */
  public static final long SEGMENT_BYTES_DEFAULT = 64L << 20;
  /** Offsets in a segment are u32 in its records, and a segment is read whole into an array. */
  public static final long SEGMENT_BYTES_MAX = 1L << 30;

  private final Path dir;
  private final long segmentBytes;
  private final List<Segment> segments;
  private final List<Entry> recoveredEntries;
  private HardState hardState;
  private long lastIndex;
  private FileChannel tail;
  private long tailBytes;
  /**
   * How far the tail segment is zero-filled ahead of its records. Overwriting zeros leaves the
   * file's size alone, so the fdatasync of a save flushes data and no metadata (etcd preallocates
   * its segments for the same reason). Chunks double from {@link #PREALLOCATE_MIN_BYTES} to
   * {@link #PREALLOCATE_MAX_BYTES}, so the size changes a few dozen times per segment. Recovery
   * reads zeros after the last save as the end of the log, and a zero sector inside the last save
   * as a part of it that never reached the disk; a clean close cuts the zeros off.
   */
  private long preallocatedBytes;
  /** Saves up to this size are encoded into {@link #saveBuffer}. */
  private static final int SAVE_BUFFER_BYTES = 1 << 20;
  private ByteBuffer saveBuffer;
  static final int PREALLOCATE_MIN_BYTES = 64 << 10;
  static final int PREALLOCATE_MAX_BYTES = 4 << 20;
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(PREALLOCATE_MIN_BYTES).asReadOnlyBuffer();

  /** Told how long each sync of a save took, in nanoseconds (etcd's WAL fsync duration). */
  private volatile LongConsumer onSync = nanos -> { };

  /** A write or sync failed: what reached the disk is unknown, so nothing more is appended. */
  private IOException failure;

  private record Segment(long seq, long firstIndex, Path path) {
  }

  private Wal(Path dir, long segmentBytes) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.segments = new ArrayList<>();
    this.recoveredEntries = new ArrayList<>();
    this.hardState = HardState.EMPTY;
  }

  /** Opens (creating when missing) the WAL in {@code dir} and replays it. */
  public static Wal open(Path dir) {
    return open(dir, SEGMENT_BYTES_DEFAULT);
  }

  public static Wal open(Path dir, long segmentBytes) {
    if (segmentBytes < 4096 || segmentBytes > SEGMENT_BYTES_MAX) {
      throw new IllegalArgumentException("segmentBytes must be in [4096, " + SEGMENT_BYTES_MAX + "], got " + segmentBytes);
    }
    Wal wal = new Wal(dir, segmentBytes);
    try {
      Files.createDirectories(dir);
      wal.recover();
    } catch (IOException e) {
      wal.closeQuietly();
      throw new UncheckedIOException("cannot open the WAL in " + dir, e);
    } catch (RuntimeException e) {
      wal.closeQuietly();
      throw e;
    }
    return wal;
  }

  /** The hard state last saved (EMPTY when none was). */
  public HardState hardState() {
    return hardState;
  }

  /**
   * The entries the retained segments hold, in index order, as found at {@link #open}. Entries
   * older than the first retained segment were released.
   */
  public List<Entry> entries() {
    return List.copyOf(recoveredEntries);
  }

  /** Lets go of the entries found at open, once the caller took what it needed of {@link #entries}. */
  public void dropRecoveredEntries() {
    recoveredEntries.clear();
  }

  /** Index of the last entry saved (0 when none). */
  public long lastIndex() {
    return lastIndex;
  }

  /**
   * Appends {@code entries} (consecutive, in index order) and then {@code state} (skipped when
   * null or EMPTY), and syncs. Durable when it returns. Nothing to save: no write, no sync.
   */
  public void save(HardState state, List<Entry> entries) {
    save(state, entries, true);
  }

  /** From now on {@code nanos} is told how long each synced save's {@code fdatasync} took (on the saving thread). */
  public void onSync(LongConsumer nanos) {
    this.onSync = nanos;
  }

  /**
   * Like {@link #save(HardState, List)}; without {@code sync} the records only reach the OS: they
   * survive a crash of the process but not of the machine, until a later synced save (or a
   * segment cut) makes them durable with it. For what may be lost, such as a commit index that
   * is relearned from the leader (etcd syncs a Ready's WAL write only when it must, too).
   */
  public void save(HardState state, List<Entry> entries, boolean sync) {
    boolean withState = state != null && !state.isEmpty();
    if (entries.isEmpty() && !withState) {
      return;
    }
    if (failure != null) {
      throw new IllegalStateException("the WAL in " + dir + " failed earlier and takes no more writes", failure);
    }
    checkConsecutive(entries);
    int bytes = 0;
    for (Entry e : entries) {
      bytes += WalRecords.entrySize(e);
    }
    if (withState) {
      bytes += WalRecords.STATE_SIZE;
    }
    if (tailBytes + bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a save of " + bytes + " bytes does not fit in a WAL segment");
    }
    // every record names the save's byte range, which is how recovery tells this save, torn, from
    // an acknowledged one (WalRecords.Reader)
    int saveStart = (int) tailBytes;
    int saveEnd = saveStart + bytes;
    ByteBuffer buf = saveBuffer(bytes);
    for (Entry e : entries) {
      WalRecords.putEntry(buf, e, saveStart, saveEnd);
    }
    if (withState) {
      WalRecords.putState(buf, state, saveStart, saveEnd);
    }
    buf.flip();
    try {
      preallocate(tailBytes + bytes);
      writeFully(tail, buf, tailBytes);
      if (sync) {
        long start = System.nanoTime();
        tail.force(false);
        onSync.accept(System.nanoTime() - start);
      }
    } catch (IOException e) {
      // a torn record may now sit at the tail; appending after it would make it corruption
      failure = e;
      throw new UncheckedIOException("WAL write failed in " + dir, e);
    }
    tailBytes += bytes;
    if (!entries.isEmpty()) {
      lastIndex = entries.get(entries.size() - 1).index();
    }
    if (withState) {
      hardState = state;
    }
    if (tailBytes >= segmentBytes) {
      cut();
    }
  }

  /**
   * A gap would make the log unreadable on the next open: refuse it here. The first entry may
   * rewrite (index at or below the last) or follow the last; a fresh log may start anywhere.
   */
  private void checkConsecutive(List<Entry> entries) {
    for (int i = 0; i < entries.size(); i++) {
      long index = entries.get(i).index();
      long expected = i == 0 ? lastIndex + 1 : entries.get(i - 1).index() + 1;
      boolean ok = i == 0 ? lastIndex == 0 || index <= expected : index == expected;
      if (!ok) {
        throw new IllegalArgumentException("WAL entry " + index + " would follow entry " + (expected - 1));
      }
    }
  }

  /**
   * Deletes the oldest segments as long as the next one starts at or below {@code index}: they
   * hold only entries below it, which the state machine has made durable by itself. The segment
   * that may hold {@code index}, and the last segment, are always kept.
   */
  public void releaseBefore(long index) {
    int deletable = 0;
    while (deletable + 1 < segments.size() && segments.get(deletable + 1).firstIndex() <= index) {
      deletable++;
    }
    try {
      for (int i = 0; i < deletable; i++) {
        Files.deleteIfExists(segments.get(0).path());
        segments.remove(0);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete a released WAL segment in " + dir, e);
    }
  }

  @Override
  public void close() {
    try {
      if (tail != null) {
        if (failure == null && tail.isOpen()) {
          tail.truncate(tailBytes);
        }
        tail.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close the WAL in " + dir, e);
    }
  }

  // ---- recovery and segments ----

  private void recover() throws IOException {
    List<Segment> found = new ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Segment s = parseName(p);
        if (s != null) {
          found.add(s);
        }
      }
    }
    found.sort((a, b) -> Long.compare(a.seq(), b.seq()));
    for (int i = 0; i < found.size(); i++) {
      if (i > 0 && found.get(i).seq() != found.get(i - 1).seq() + 1) {
        throw new WalCorruptException("WAL segments are missing between " + found.get(i - 1).path().getFileName()
            + " and " + found.get(i).path().getFileName());
      }
      boolean last = i == found.size() - 1;
      long validBytes = replay(found.get(i), last);
      segments.add(found.get(i));
      if (last) {
        tail = FileChannel.open(found.get(i).path(), StandardOpenOption.WRITE);
        tail.truncate(validBytes);
        tail.force(true);
        tailBytes = validBytes;
        preallocatedBytes = validBytes;
      }
    }
    if (segments.isEmpty()) {
      createSegment(0, 1);
    }
  }

  /** Replays one segment into the recovered state; returns the length of its valid prefix. */
  private long replay(Segment s, boolean last) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(s.path()));
    WalRecords.Reader reader = new WalRecords.Reader(buf, s.path().getFileName().toString(), last);
    WalRecords.Record r;
    while ((r = reader.next()) != null) {
      if (r.state() != null) {
        hardState = r.state();
      } else {
        accept(r.entry());
      }
    }
    return reader.validBytes();
  }

  private void accept(Entry e) {
    if (!recoveredEntries.isEmpty()) {
      long first = recoveredEntries.get(0).index();
      if (e.index() <= lastIndex) {
        // a new leader rewrote the log from e.index() on
        int keep = (int) Math.max(0, e.index() - first);
        recoveredEntries.subList(keep, recoveredEntries.size()).clear();
      } else if (e.index() != lastIndex + 1) {
        throw new WalCorruptException("WAL entry " + e.index() + " follows entry " + lastIndex);
      }
    }
    recoveredEntries.add(e);
    lastIndex = e.index();
  }

  /** Starts the next segment, which begins with the current hard state (when there is one). */
  private void cut() {
    Segment prev = segments.get(segments.size() - 1);
    try {
      // only the last segment may end in zeros: cut the preallocated rest off this one first
      tail.truncate(tailBytes);
      tail.force(true);
      tail.close();
      createSegment(prev.seq() + 1, lastIndex + 1);
    } catch (IOException e) {
      failure = e;
      throw new UncheckedIOException("cannot cut a WAL segment in " + dir, e);
    }
    save(hardState, List.of());
  }

  private void createSegment(long seq, long firstIndex) throws IOException {
    Path p = dir.resolve(String.format("%016x-%016x.wal", seq, firstIndex));
    tail = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    tailBytes = 0;
    preallocatedBytes = 0;
    segments.add(new Segment(seq, firstIndex, p));
    // the new file's directory entry must be durable before anything in it is acknowledged
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private static Segment parseName(Path p) {
    String name = p.getFileName().toString();
    if (!name.matches("[0-9a-f]{16}-[0-9a-f]{16}\\.wal")) {
      return null;
    }
    return new Segment(Long.parseUnsignedLong(name.substring(0, 16), 16),
        Long.parseUnsignedLong(name.substring(17, 33), 16), p);
  }

  /**
   * A buffer for a save of {@code bytes}: the WAL's own direct buffer, reused from save to save
   * (a heap buffer would be copied into a direct one by every write), or for an unusually large
   * save a buffer of its own.
   */
  private ByteBuffer saveBuffer(int bytes) {
    if (bytes > SAVE_BUFFER_BYTES) {
      return ByteBuffer.allocate(bytes);
    }
    if (saveBuffer == null) {
      saveBuffer = ByteBuffer.allocateDirect(SAVE_BUFFER_BYTES);
    }
    return saveBuffer.clear().limit(bytes);
  }

  /** Zero-fills the tail, a chunk at a time, until it reaches at least {@code bytes}. */
  private void preallocate(long bytes) throws IOException {
    while (preallocatedBytes < bytes) {
      long chunk = Math.min(PREALLOCATE_MAX_BYTES, Math.max(PREALLOCATE_MIN_BYTES, preallocatedBytes));
      long end = preallocatedBytes + chunk;
      for (long at = preallocatedBytes; at < end; at += ZEROS.capacity()) {
        writeFully(tail, ZEROS.duplicate().limit((int) Math.min(ZEROS.capacity(), end - at)), at);
      }
      preallocatedBytes = end;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long at = position;
    while (buf.hasRemaining()) {
      at += ch.write(buf, at);
    }
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException ignored) {
      // already failing
    }
  }
}
