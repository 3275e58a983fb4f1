package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.proto.internal.AuthHeader;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokens and the client-certificate hook, without a server: simple tokens (prefix.index, TTL
 * refreshed by use, ended by user changes and auth disable), JWTs (etcd's claims, each signing
 * method family, keys in every PEM form etcd's users have, expiry, tampering, verify-only), and
 * the common name a verified client certificate gives (etcd's AuthInfoFromTLS).
 */
class AuthTokensTest {
    @TempDir
    Path tmp;

    @Test
    void simpleTokensLastTheirTtlSinceLastUseAndEndWithTheUserOrAuth() {
        AtomicLong now = new AtomicLong();
        SimpleTokens t = new SimpleTokens(Duration.ofSeconds(300), () -> 7, now::get);
        t.enable();
        String prefix = t.simpleTokenPrefix();
        assertTrue(prefix.matches("[a-zA-Z]{16}"), prefix);
        assertNotEquals(prefix, t.simpleTokenPrefix());
        String token = t.assign("alice", 5, prefix, 42);
        assertEquals(prefix + ".42", token);
        // the caller stands at the auth revision of now, not the one of authentication
        assertEquals(AuthHeader.newBuilder().setUsername("alice").setAuthRevision(7).build(), t.info(token));
        now.addAndGet(Duration.ofSeconds(299).toNanos());
        assertEquals("alice", t.info(token).getUsername()); // used: 300 s more from here
        now.addAndGet(Duration.ofSeconds(299).toNanos());
        assertEquals("alice", t.info(token).getUsername());
        now.addAndGet(Duration.ofSeconds(301).toNanos());
        assertNull(t.info(token));
        String again = t.assign("alice", 5, prefix, 43);
        String bob = t.assign("bob", 5, prefix, 44);
        t.invalidateUser("alice");
        assertNull(t.info(again));
        assertEquals("bob", t.info(bob).getUsername());
        t.disable();
        assertNull(t.info(bob));
        assertNull(t.info("forged.1"));
    }

    @Test
    void jwtCarriesEtcdsClaimsAndVerifiesWithEachKeyForm() throws Exception {
        Clock clock = Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC);
        // PKCS#1 and SEC1 files as openssl writes them, and PKCS#8 / X.509 as Java does
        roundTrip("RS256", resource("jwt-rs256-pub.pem"), resource("jwt-rs256-pkcs1.pem"), clock);
        roundTrip("ES256", resource("jwt-es256-pub.pem"), resource("jwt-es256-sec1.pem"), clock);
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPair pair = rsa.generateKeyPair();
        roundTrip("PS256", pem("PUBLIC KEY", pair.getPublic().getEncoded()), pem("PRIVATE KEY", pair.getPrivate().getEncoded()), clock);
        roundTrip("RS512", pem("PUBLIC KEY", pair.getPublic().getEncoded()), pem("PRIVATE KEY", pair.getPrivate().getEncoded()), clock);
    }

    private void roundTrip(String method, String publicPem, String privatePem, Clock clock) throws Exception {
        String keyType = method.startsWith("ES") ? "EC" : "RSA";
        JwtTokens t = new JwtTokens(method, JwtTokens.publicKey(keyType, publicPem), JwtTokens.privateKey(keyType, privatePem),
                Duration.ofMinutes(5), clock);
        String token = t.assign("alice", 9, "", 42);
        String[] parts = token.split("\\.");
        assertEquals(3, parts.length);
        Map<String, String> header = JwtTokens.FlatJson.parse(decode(parts[0]));
        assertEquals(method, header.get("alg"));
        Map<String, String> claims = JwtTokens.FlatJson.parse(decode(parts[1]));
        assertEquals(Map.of("username", "alice", "revision", "9",
                "exp", Long.toString(clock.instant().plusSeconds(300).getEpochSecond())), claims);
        assertEquals(AuthHeader.newBuilder().setUsername("alice").setAuthRevision(9).build(), t.info(token), method);
        // another signature, another method, a changed claim, an expired token: no one
        assertNull(t.info(parts[0] + "." + parts[1] + "." + parts[2].substring(0, parts[2].length() - 4) + "AAAA"));
        String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(
                decode(parts[1]).replace("alice", "root").getBytes(StandardCharsets.UTF_8));
        assertNull(t.info(parts[0] + "." + forged + "." + parts[2]));
        JwtTokens later = new JwtTokens(method, JwtTokens.publicKey(keyType, publicPem), null, Duration.ofMinutes(5),
                Clock.offset(clock, Duration.ofMinutes(6)));
        assertNull(later.info(token));
        // verify-only: checks tokens, cannot issue them
        JwtTokens verifyOnly = new JwtTokens(method, JwtTokens.publicKey(keyType, publicPem), null, Duration.ofMinutes(5), clock);
        assertEquals("alice", verifyOnly.info(token).getUsername());
        assertEquals("", verifyOnly.assign("alice", 9, "", 43));
        assertEquals("auth: token signing attempted with verify-only key", verifyOnly.emptyTokenReason());
    }

    @Test
    void authTokenOptionsAreEtcds() throws Exception {
        Path pub = Files.writeString(tmp.resolve("pub.pem"), resource("jwt-rs256-pub.pem"));
        Path priv = Files.writeString(tmp.resolve("priv.pem"), resource("jwt-rs256-pkcs1.pem"));
        TokenProvider jwt = TokenProvider.parse("jwt,pub-key=" + pub + ",priv-key=" + priv + ",sign-method=RS256,ttl=1m",
                Duration.ofSeconds(300), null);
        assertTrue(jwt instanceof JwtTokens);
        assertTrue(TokenProvider.parse("simple", Duration.ofSeconds(300), null) instanceof SimpleTokens);
        assertThrows(IllegalArgumentException.class, () -> TokenProvider.parse("jwt,pub-key=" + pub + ",sign-method=HS1", Duration.ofSeconds(1), null));
        assertThrows(IllegalArgumentException.class, () -> TokenProvider.parse("jwt,sign-method", Duration.ofSeconds(1), null));
        assertThrows(IllegalArgumentException.class, () -> TokenProvider.parse("opaque", Duration.ofSeconds(1), null));
        // keys that do not belong together
        Path otherPub = Files.writeString(tmp.resolve("other.pem"), resource("jwt-es256-pub.pem"));
        assertThrows(IllegalArgumentException.class, () -> TokenProvider.parse(
                "jwt,pub-key=" + otherPub + ",priv-key=" + priv + ",sign-method=RS256", Duration.ofSeconds(1), null));
    }

    @Test
    void aVerifiedClientCertificateIsItsCommonName() throws Exception {
        Certificate cert;
        try (InputStream in = getClass().getResourceAsStream("/client-cn-alice.pem")) {
            cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        assertEquals("alice", AuthCalls.commonName(session(new Certificate[] {cert})));
        assertNull(AuthCalls.commonName(session(null)));
        assertNull(AuthCalls.commonName(null));
    }

    /** A TLS session whose peer presented {@code chain} (null: presented none, so it is unverified). */
    private static SSLSession session(Certificate[] chain) {
        return (SSLSession) java.lang.reflect.Proxy.newProxyInstance(AuthTokensTest.class.getClassLoader(),
                new Class<?>[] {SSLSession.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getPeerCertificates")) {
                        if (chain == null) {
                            throw new SSLPeerUnverifiedException("no certificate");
                        }
                        return chain;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    private static String decode(String part) {
        return new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder().encodeToString(der) + "\n-----END " + label + "-----\n";
    }

    private static String resource(String name) throws Exception {
        try (InputStream in = AuthTokensTest.class.getResourceAsStream("/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }
}
