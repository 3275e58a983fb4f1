package io.vigil.server;

import io.vigil.proto.internal.AuthHeader;
import io.vigil.revlog.AuthStore;
import io.vigil.revlog.AuthTokens;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * etcd's token providers, chosen with {@code --auth-token}: {@code simple} (the default; random
 * tokens the members remember, see {@link SimpleTokens}) or
 * {@code jwt,pub-key=FILE,priv-key=FILE,sign-method=RS256,ttl=5m} (signed tokens any member can
 * verify, see {@link JwtTokens}). Tokens are assigned as Authenticate entries are applied, on
 * every member ({@link AuthTokens}); {@link #info} finds a token's caller on any thread.
 */
interface TokenProvider extends AuthTokens {
    /** What a member proposing an Authenticate puts in it: a fresh random prefix for simple tokens, else empty. */
    String simpleTokenPrefix();

    /** The caller a token stands for, at its auth revision; null when the token is not valid (now). */
    AuthHeader info(String token);

    /** Why an Authenticate answered with an empty token (a provider that cannot sign), or null. */
    default String emptyTokenReason() {
        return null;
    }

    /**
     * The provider {@code option} names (etcd's {@code --auth-token} syntax: a type, then
     * comma-separated {@code key=value} options).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static TokenProvider parse(String option, Duration simpleTtl, AuthStore auth) {
        String[] parts = option.split(",");
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].split("=", -1);
            if (kv.length != 2 || opts.put(kv[0], kv[1]) != null) {
                throw new IllegalArgumentException("invalid auth token option " + parts[i] + " in " + option);
            }
        }
        return switch (parts[0]) {
            case "simple" -> new SimpleTokens(simpleTtl, () -> auth.revision());
            case "jwt" -> JwtTokens.load(opts.get("sign-method"), path(opts.get("pub-key")), path(opts.get("priv-key")),
                    opts.containsKey("ttl") ? ServerFlags.goDuration(opts.get("ttl")) : JwtTokens.DEFAULT_TTL);
            default -> throw new IllegalArgumentException("unknown auth token type " + parts[0] + " (simple or jwt)");
        };
    }

    private static Path path(String p) {
        return p == null || p.isEmpty() ? null : Path.of(p);
    }
}
