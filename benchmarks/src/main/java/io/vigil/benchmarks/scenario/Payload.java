package io.vigil.benchmarks.scenario;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;

/**
 * Values that carry their own send time, for put-to-delivery latency of watch events: bytes 0..7
 * are {@code System.nanoTime()} at the put, byte 8 is 1 when the put was inside the measurement
 * window; the rest is filler up to the value size. The writer and the watchers run in this one
 * JVM, so the clock is the same.
 */
public final class Payload {
  public static final int STAMP_BYTES = 9;

  private Payload() {}

  public static ByteString stamped(int sizeBytes, long sentNs, boolean measured) {
    ByteBuffer value = ByteBuffer.allocate(Math.max(sizeBytes, STAMP_BYTES));
    value.putLong(sentNs).put((byte) (measured ? 1 : 0));
    while (value.hasRemaining()) {
      value.put((byte) 'v');
    }
    return ByteString.copyFrom(value.array());
  }

  public static ByteString filler(int sizeBytes) {
    return stamped(sizeBytes, 0, false);
  }

  /** The send time of a measured put's value, or -1 for values written outside the window. */
  public static long measuredSentNs(ByteString value) {
    if (value.size() < STAMP_BYTES || value.byteAt(8) != 1) {
      return -1;
    }
    return value.substring(0, 8).asReadOnlyByteBuffer().getLong();
  }
}
