package io.vigil.revlog;

import java.util.Comparator;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.provider.MemoryManager;
import org.lmdbjava.BufferProxy;
import org.lmdbjava.ByteArrayProxy;

/**
 * lmdbjava's byte-array proxy without its allocation per call. LMDB reads keys and values from
 * native memory, so every key or value handed to it is copied there first; lmdbjava's
 * {@link ByteArrayProxy} allocates a fresh block for each copy, an object with a finalizer: a
 * malloc, a finalizer registration, a Finalizer object that survives the next young collection,
 * and a free on the finalizer thread, for every key of every get and for the key and the value of
 * every put. This proxy copies into a few native blocks each thread keeps and reuses.
 *
 * <p>Why reuse is safe: lmdbjava fills a {@code MDB_val} ({@link #in}) right before the one LMDB
 * call that reads it, on the same thread, and a call reads at most two (a key and a value); LMDB
 * copies what it keeps (a put) and keeps no pointer to what it was given (a get or a cursor
 * positioning). A thread's blocks go round a ring of {@link #SLOTS}, so no block is filled again
 * before the call it was filled for has returned. A copy larger than {@link #KEEP_BYTES} gets its
 * own block, as lmdbjava's proxy does, so a thread keeps at most {@code SLOTS × KEEP_BYTES}.
 *
 * <p>Values read out are copied into new arrays, as lmdbjava's proxy does.
 */
final class ReusedCopyProxy extends BufferProxy<byte[]> {
    static final ReusedCopyProxy PROXY = new ReusedCopyProxy();
    /** Blocks per thread, in a ring: twice the most one LMDB call reads. */
    static final int SLOTS = 4;
    /** The largest block a thread keeps; a larger copy gets a block of its own. */
    static final int KEEP_BYTES = 64 << 10;
    private static final MemoryManager MEMORY = Runtime.getSystemRuntime().getMemoryManager();
    private static final Comparator<byte[]> UNSIGNED = ByteArrayProxy::compareArrays;
    private static final Comparator<byte[]> SIGNED = ByteArrayProxy::compareArraysSigned;
    private static final ThreadLocal<Ring> RINGS = ThreadLocal.withInitial(Ring::new);

    /** One thread's blocks (their native memory is freed once the thread and its ring are gone). */
    private static final class Ring {
        private final Pointer[] blocks = new Pointer[SLOTS];
        private final int[] capacities = new int[SLOTS];
        private int next;

        /** A block of at least {@code bytes} that no call in flight on this thread reads. */
        Pointer block(int bytes) {
            if (bytes > KEEP_BYTES) {
                return MEMORY.allocateDirect(bytes);
            }
            int slot = next;
            next = (next + 1) % SLOTS;
            if (capacities[slot] < bytes || blocks[slot] == null) {
                int capacity = Math.max(64, Integer.highestOneBit(Math.max(1, bytes - 1)) << 1);
                blocks[slot] = MEMORY.allocateDirect(capacity);
                capacities[slot] = capacity;
            }
            return blocks[slot];
        }
    }

    private ReusedCopyProxy() {
    }

    @Override
    protected byte[] allocate() {
        return new byte[0];
    }

    @Override
    protected void deallocate(byte[] buff) {
    }

    @Override
    protected byte[] getBytes(byte[] buffer) {
        return buffer.clone();
    }

    @Override
    protected Comparator<byte[]> getSignedComparator() {
        return SIGNED;
    }

    @Override
    protected Comparator<byte[]> getUnsignedComparator() {
        return UNSIGNED;
    }

    @Override
    protected Pointer in(byte[] buffer, Pointer mdbVal) {
        Pointer block = RINGS.get().block(buffer.length);
        block.put(0, buffer, 0, buffer.length);
        mdbVal.putLong(STRUCT_FIELD_OFFSET_SIZE, buffer.length);
        mdbVal.putAddress(STRUCT_FIELD_OFFSET_DATA, block.address());
        return block;
    }

    /** Reserving space (MDB_RESERVE) is not supported, as in lmdbjava's byte-array proxy. */
    @Override
    protected Pointer in(byte[] buffer, int size, Pointer mdbVal) {
        return null;
    }

    @Override
    protected byte[] out(byte[] buffer, Pointer mdbVal) {
        long address = mdbVal.getAddress(STRUCT_FIELD_OFFSET_DATA);
        int size = (int) mdbVal.getLong(STRUCT_FIELD_OFFSET_SIZE);
        byte[] copy = new byte[size];
        MEMORY.newPointer(address, size).get(0, copy, 0, size);
        return copy;
    }
}
