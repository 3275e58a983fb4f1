package io.vigil.consensus.raft;

import java.util.ArrayDeque;
import java.util.ArrayList;

/**
 * A run of consecutive log entries held as bytes, for {@link MemoryStorage}: each entry's term and
 * type in ring arrays, its data copied into chunks of {@link #CHUNK_BYTES} that are reused once
 * the entries in them are dropped. {@link #get} builds a new {@link Entry} each time.
 *
 * <p>Why: a follower keeps up to --snapshot-count entries in memory. As objects, every entry lived
 * long enough to be promoted to the old generation and then died there, so under a steady write
 * load the old generation filled with dead entries and the JVM's parallel collector stopped the
 * member for a full collection (about 100 ms) every minute or so. Held here, an entry's objects
 * die young, and the chunks and arrays stay (they are only replaced when the log outgrows them).
 *
 * <p>Positions: entry {@code i} (0 = the first held) has ring slot {@code (first + i) & mask};
 * its data spans absolute byte positions {@code [start(i), ends[slot])}, where {@code start(0)} is
 * {@link #dataStart}; the chunk {@code k} of {@link #chunks} holds positions from
 * {@code (firstChunk + k) * CHUNK_BYTES}. Not thread-safe, like its storage.
 */
final class PackedEntries {
  static final int CHUNK_BITS = 20;
  static final int CHUNK_BYTES = 1 << CHUNK_BITS;
  /** Dropped chunks kept for reuse; more would only hold memory a shrinking log no longer needs. */
  private static final int SPARE_CHUNKS = 4;
  private static final EntryType[] TYPES = EntryType.values();

  private long[] terms = new long[16];
  private byte[] types = new byte[16];
  private long[] ends = new long[16];
  private int first;
  private int size;
  private long dataStart;
  private long dataEnd;
  private final ArrayList<byte[]> chunks = new ArrayList<>();
  private long firstChunk;
  private final ArrayDeque<byte[]> spare = new ArrayDeque<>();

  int size() {
    return size;
  }

  long term(int i) {
    return terms[slot(i)];
  }

  /** Entry {@code i}, as a new object with its own copy of the data. */
  Entry get(int i, long index) {
    int s = slot(i);
    long start = start(i);
    int length = (int) (ends[s] - start);
    byte[] data = null;
    if (length > 0) {
      data = new byte[length];
      copyOut(start, data);
    }
    return new Entry(terms[s], index, TYPES[types[s]], data);
  }

  /** The bytes {@link Entry#sizeBytes} counts for entry {@code i}, without building it. */
  long sizeBytes(int i) {
    return ends[slot(i)] - start(i) + Entry.OVERHEAD_BYTES;
  }

  void add(Entry e) {
    if (size == terms.length) {
      grow();
    }
    int s = slot(size);
    terms[s] = e.term();
    types[s] = (byte) e.type().ordinal();
    copyIn(e.data());
    ends[s] = dataEnd;
    size++;
  }

  /** Keeps the first {@code n} entries, drops the rest. */
  void truncate(int n) {
    if (n >= size) {
      return;
    }
    size = n;
    dataEnd = n == 0 ? dataStart : ends[slot(n - 1)];
    long chunksNeeded = chunkOf(dataEnd - 1 + CHUNK_BYTES) - firstChunk;
    while (chunks.size() > Math.max(0, chunksNeeded)) {
      release(chunks.remove(chunks.size() - 1));
    }
  }

  /** Drops the first {@code n} entries. */
  void dropFirst(int n) {
    if (n <= 0) {
      return;
    }
    if (n >= size) {
      clear();
      return;
    }
    dataStart = ends[slot(n - 1)];
    first = slot(n);
    size -= n;
    while (!chunks.isEmpty() && (firstChunk + 1) * CHUNK_BYTES <= dataStart) {
      release(chunks.remove(0));
      firstChunk++;
    }
  }

  void clear() {
    size = 0;
    first = 0;
    dataStart = dataEnd;
    while (!chunks.isEmpty()) {
      release(chunks.remove(chunks.size() - 1));
    }
    firstChunk = chunkOf(dataEnd);
  }

  private int slot(int i) {
    return (first + i) & (terms.length - 1);
  }

  private long start(int i) {
    return i == 0 ? dataStart : ends[slot(i - 1)];
  }

  private static long chunkOf(long position) {
    return position >>> CHUNK_BITS;
  }

  private void grow() {
    int n = terms.length;
    long[] t = new long[n * 2];
    byte[] y = new byte[n * 2];
    long[] e = new long[n * 2];
    for (int i = 0; i < size; i++) {
      int s = slot(i);
      t[i] = terms[s];
      y[i] = types[s];
      e[i] = ends[s];
    }
    terms = t;
    types = y;
    ends = e;
    first = 0;
  }

  private void copyIn(byte[] data) {
    int done = 0;
    while (done < data.length) {
      long chunk = chunkOf(dataEnd);
      if (chunks.isEmpty()) {
        firstChunk = chunk;
      }
      if (chunk - firstChunk == chunks.size()) {
        chunks.add(spare.isEmpty() ? new byte[CHUNK_BYTES] : spare.pop());
      }
      byte[] into = chunks.get((int) (chunk - firstChunk));
      int at = (int) (dataEnd & (CHUNK_BYTES - 1));
      int n = Math.min(data.length - done, CHUNK_BYTES - at);
      System.arraycopy(data, done, into, at, n);
      done += n;
      dataEnd += n;
    }
  }

  private void copyOut(long from, byte[] out) {
    int done = 0;
    while (done < out.length) {
      long position = from + done;
      byte[] chunk = chunks.get((int) (chunkOf(position) - firstChunk));
      int at = (int) (position & (CHUNK_BYTES - 1));
      int n = Math.min(out.length - done, CHUNK_BYTES - at);
      System.arraycopy(chunk, at, out, done, n);
      done += n;
    }
  }

  private void release(byte[] chunk) {
    if (spare.size() < SPARE_CHUNKS) {
      spare.push(chunk);
    }
  }

  @Override
  public String toString() {
    return "PackedEntries{" + size + " entries, " + (dataEnd - dataStart) + " bytes in " + chunks.size()
        + " chunks" + (size == 0 ? "" : ", terms " + term(0) + ".." + term(size - 1)) + "}";
  }
}
