package io.vigil.revlog;

/**
 * What the member does with auth tokens as auth entries are applied (etcd's TokenProvider as its
 * auth store drives it). Called on the apply thread, in log order, on every member, while the
 * entry is applied, so a token exists on a member before the entry's proposer is answered.
 */
public interface AuthTokens {
    /**
     * A user authenticated at the log entry {@code index} at auth revision {@code authRevision};
     * returns the token to answer with. {@code simpleTokenPrefix} is the proposer's random prefix
     * (empty when its tokens are not simple ones).
     */
    String assign(String user, long authRevision, String simpleTokenPrefix, long index);

    /** The user was deleted or its password changed: tokens issued to it stop working. */
    void invalidateUser(String user);

    /** Auth was enabled (or found enabled when the store opened). */
    void enable();

    /** Auth was disabled: every token stops working. */
    void disable();

    /** Tokens nobody uses (a store opened without a server). */
    AuthTokens NONE = new AuthTokens() {
        @Override
        public String assign(String user, long authRevision, String simpleTokenPrefix, long index) {
            return "";
        }

        @Override
        public void invalidateUser(String user) {
        }

        @Override
        public void enable() {
        }

        @Override
        public void disable() {
        }
    };
}
