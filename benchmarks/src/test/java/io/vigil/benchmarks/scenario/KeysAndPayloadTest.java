package io.vigil.benchmarks.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class KeysAndPayloadTest {
  @Test
  void keysHaveFixedLengthAndSortByIndex() {
    Keys keys = new Keys("vb/x/put/", 16, 1000);
    assertEquals("vb/x/put/0000042", keys.key(42).toStringUtf8());
    assertEquals(16, keys.key(999).size());
    assertTrue(ByteString.unsignedLexicographicalComparator().compare(keys.key(99), keys.key(100)) < 0);
  }

  @Test
  void prefixEndCoversThePrefix() {
    Keys keys = new Keys("vb/x/", 10, 10);
    assertEquals("vb/x0", keys.prefixEnd().toStringUtf8());
    assertEquals(ByteString.copyFrom(new byte[] {'a', 'c'}),
        Keys.prefixEnd(ByteString.copyFrom(new byte[] {'a', 'b', (byte) 0xff})));
  }

  @Test
  void tooShortKeySizeSaysWhatIsNeeded() {
    var error = assertThrows(IllegalArgumentException.class, () -> new Keys("vb/abcdef/put/", 16, 100_000));
    assertEquals("key size 16 B cannot hold prefix 'vb/abcdef/put/' and 5 digits; raise --key-size-bytes to at least 19",
        error.getMessage());
  }

  @Test
  void stampedValuesCarryTheirSendTime() {
    ByteString value = Payload.stamped(256, 123_456_789L, true);
    assertEquals(256, value.size());
    assertEquals(123_456_789L, Payload.measuredSentNs(value));
    assertEquals(-1, Payload.measuredSentNs(Payload.stamped(256, 5, false)));
    assertEquals(-1, Payload.measuredSentNs(ByteString.copyFromUtf8("short")));
    assertEquals(Payload.STAMP_BYTES, Payload.stamped(1, 1, true).size());
  }
}
