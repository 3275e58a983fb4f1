package io.vigil.revlog;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.lmdbjava.BufferProxy;

/**
 * A guard against going back to an lmdbjava that corrupts data. Before 0.9.2 the byte-array proxy
 * copied each key and value into native memory and dropped the only reference to it before the
 * LMDB call, so a garbage collection in between could free it (lmdbjava issue 252). We hit that:
 * a put benchmark with frequent young collections ended in "corrupt revision record". From 0.9.2
 * the proxy's {@code in} returns the native memory and lmdbjava keeps it reachable across the
 * call; this checks that the library on the class path is of that kind.
 */
class LmdbjavaPointerTest {
    @Test
    void theProxyHandsBackTheNativeMemoryItFilled() throws Exception {
        Class<?> returned = BufferProxy.class.getDeclaredMethod("in", Object.class, jnr.ffi.Pointer.class).getReturnType();
        assertEquals(jnr.ffi.Pointer.class, returned);
    }
}
