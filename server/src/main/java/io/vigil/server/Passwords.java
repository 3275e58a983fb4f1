package io.vigil.server;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/** Passwords as etcd keeps them: bcrypt hashes ("$2a$", cost 10, etcd's default), never the passwords. */
final class Passwords {
    static final int BCRYPT_COST = 10;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Passwords() {
    }

    /** A new hash of {@code password}: slow on purpose (tens of ms), so never on a transport thread. */
    static String hash(String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return OpenBSDBCrypt.generate("2a", password.getBytes(StandardCharsets.UTF_8), salt, BCRYPT_COST);
    }

    /** Whether {@code password} matches {@code hash}; false for a hash that is none. Slow, as {@link #hash}. */
    static boolean matches(String hash, String password) {
        try {
            return OpenBSDBCrypt.checkPassword(hash, password.getBytes(StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | IllegalStateException notAHash) {
            return false;
        }
    }
}
