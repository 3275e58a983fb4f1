package io.vigil.server;

import io.vigil.proto.internal.AuthHeader;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * etcd's simple tokens: {@code PREFIX.INDEX}, a random prefix of 16 letters the proposing member
 * chose and the log index of the Authenticate entry, remembered by every member that applied the
 * entry (so a token works on any member once it applied it) and by no file: after a restart the
 * user authenticates again. A token lasts {@code --auth-token-ttl} since it was last used, and
 * stands for its user at the auth revision of now. Deleting a user or changing its password ends
 * its tokens; disabling auth ends all.
 */
final class SimpleTokens implements TokenProvider {
    private static final String LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private static final int PREFIX_LETTERS = 16;

    private record Token(String user, long deadlineNanos) {
    }

    private final Map<String, Token> tokens = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final long ttlNanos;
    private final LongSupplier authRevision;
    private final LongSupplier clock;
    private volatile boolean enabled;

    SimpleTokens(Duration ttl, LongSupplier authRevision) {
        this(ttl, authRevision, System::nanoTime);
    }

    SimpleTokens(Duration ttl, LongSupplier authRevision, LongSupplier clock) {
        this.ttlNanos = ttl.toNanos();
        this.authRevision = authRevision;
        this.clock = clock;
    }

    @Override
    public String simpleTokenPrefix() {
        StringBuilder b = new StringBuilder(PREFIX_LETTERS);
        for (int i = 0; i < PREFIX_LETTERS; i++) {
            b.append(LETTERS.charAt(random.nextInt(LETTERS.length())));
        }
        return b.toString();
    }

    @Override
    public String assign(String user, long revision, String prefix, long index) {
        long now = clock.getAsLong();
        tokens.values().removeIf(t -> t.deadlineNanos() - now < 0);
        String token = prefix + "." + index;
        tokens.put(token, new Token(user, now + ttlNanos));
        return token;
    }

    @Override
    public AuthHeader info(String token) {
        if (!enabled) {
            return null;
        }
        long now = clock.getAsLong();
        Token t = tokens.computeIfPresent(token, (k, v) -> v.deadlineNanos() - now < 0 ? null : new Token(v.user(), now + ttlNanos));
        if (t == null) {
            return null;
        }
        return AuthHeader.newBuilder().setUsername(t.user()).setAuthRevision(authRevision.getAsLong()).build();
    }

    @Override
    public void invalidateUser(String user) {
        tokens.values().removeIf(t -> t.user().equals(user));
    }

    @Override
    public void enable() {
        enabled = true;
    }

    @Override
    public void disable() {
        enabled = false;
        tokens.clear();
    }
}
