package io.vigil.benchmarks.scenario;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;

/**
 * Fixed-length keys under one prefix: {@code prefix + zero-padded index}, so byte order equals
 * index order and {@code [key(i), key(i + n))} holds exactly n keys.
 */
public final class Keys {
  private final String prefix;
  private final int digits;

  /** @param keySizeBytes total key length; must leave room for the digits of {@code count - 1} */
  public Keys(String prefix, int keySizeBytes, long count) {
    int needed = Long.toString(Math.max(0, count - 1)).length();
    int digits = keySizeBytes - prefix.length();
    if (digits < needed) {
      throw new IllegalArgumentException("key size " + keySizeBytes + " B cannot hold prefix '" + prefix
          + "' and " + needed + " digits; raise --key-size-bytes to at least " + (prefix.length() + needed));
    }
    this.prefix = prefix;
    this.digits = digits;
  }

  public ByteString key(long index) {
    String number = Long.toString(index);
    StringBuilder key = new StringBuilder(prefix.length() + digits).append(prefix);
    for (int i = number.length(); i < digits; i++) {
      key.append('0');
    }
    return ByteString.copyFrom(key.append(number).toString(), StandardCharsets.UTF_8);
  }

  public ByteString prefix() {
    return ByteString.copyFromUtf8(prefix);
  }

  /** The range_end that covers every key under the prefix: prefix with its last byte + 1. */
  public ByteString prefixEnd() {
    return prefixEnd(prefix());
  }

  public static ByteString prefixEnd(ByteString prefix) {
    byte[] end = prefix.toByteArray();
    for (int i = end.length - 1; i >= 0; i--) {
      if (end[i] != (byte) 0xff) {
        end[i]++;
        return ByteString.copyFrom(end, 0, i + 1);
      }
    }
    return ByteString.copyFrom(new byte[] {0});
  }
}
