package io.vigil.server;

import io.vigil.proto.internal.AuthHeader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * etcd's JWT tokens ({@code --auth-token jwt,...}): a JWS with the claims {@code username},
 * {@code revision} (the auth revision at authentication) and {@code exp}, signed with the private
 * key (RS256/384/512, PS256/384/512, ES256/384/512) and verified with the public key, so every
 * member holding the public key accepts it without having applied anything. A member given only
 * the public key verifies tokens but cannot issue them (etcd's verify-only mode). A token stays
 * valid until it expires; changes to the auth store after it was issued make it "old" (etcd:
 * "revision of auth store is old"), and clients authenticate again.
 */
final class JwtTokens implements TokenProvider {
    static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private final String method;
    private final PublicKey publicKey;
    /** Null in verify-only mode. */
    private final PrivateKey privateKey;
    private final Duration ttl;
    private final Clock clock;

    JwtTokens(String method, PublicKey publicKey, PrivateKey privateKey, Duration ttl, Clock clock) {
        this.method = method;
        this.publicKey = publicKey;
        this.privateKey = privateKey;
        this.ttl = ttl;
        this.clock = clock;
    }

    /**
     * The provider for etcd's options; the keys are PEM files (public: "PUBLIC KEY" or PKCS#1
     * "RSA PUBLIC KEY"; private: PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY" or SEC1
     * "EC PRIVATE KEY").
     */
    static JwtTokens load(String method, Path publicKeyFile, Path privateKeyFile, Duration ttl) {
        if (method == null || algorithm(method) == null) {
            throw new IllegalArgumentException("jwt sign-method must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512");
        }
        if (publicKeyFile == null) {
            throw new IllegalArgumentException("jwt needs pub-key (and priv-key to issue tokens)");
        }
        String keyType = method.startsWith("ES") ? "EC" : "RSA";
        try {
            PublicKey pub = publicKey(keyType, Files.readString(publicKeyFile));
            PrivateKey priv = privateKeyFile == null ? null : privateKey(keyType, Files.readString(privateKeyFile));
            JwtTokens t = new JwtTokens(method, pub, priv, ttl, Clock.systemUTC());
            if (priv != null && t.info(t.sign("check", 0)) == null) {
                throw new IllegalArgumentException("jwt: public and private keys don't match");
            }
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read a jwt key: " + e.getMessage(), e);
        } catch (GeneralSecurityException | RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw (IllegalArgumentException) e;
            }
            throw new IllegalArgumentException("jwt: invalid key: " + e, e);
        }
    }

    @Override
    public String simpleTokenPrefix() {
        return "";
    }

    /** Signs a token, or answers with none in verify-only mode (see {@link #emptyTokenReason}). */
    @Override
    public String assign(String user, long authRevision, String simpleTokenPrefix, long index) {
        if (privateKey == null) {
            return "";
        }
        return sign(user, authRevision);
    }

    @Override
    public String emptyTokenReason() {
        return "auth: token signing attempted with verify-only key";
    }

    private String sign(String user, long revision) {
        long exp = clock.instant().plus(ttl).getEpochSecond();
        String header = "{\"alg\":\"" + method + "\",\"typ\":\"JWT\"}";
        String claims = "{\"exp\":" + exp + ",\"revision\":" + revision + ",\"username\":" + quote(user) + "}";
        String signingInput = B64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + B64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        try {
            Signature s = signature(method);
            s.initSign(privateKey);
            s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + B64.encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a token with " + method, e);
        }
    }

    @Override
    public AuthHeader info(String token) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            return null;
        }
        try {
            Map<String, String> header = FlatJson.parse(new String(B64D.decode(parts[0]), StandardCharsets.UTF_8));
            if (!method.equals(header.get("alg"))) {
                return null;
            }
            Signature s = signature(method);
            s.initVerify(publicKey);
            s.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            if (!s.verify(B64D.decode(parts[2]))) {
                return null;
            }
            Map<String, String> claims = FlatJson.parse(new String(B64D.decode(parts[1]), StandardCharsets.UTF_8));
            String user = claims.get("username");
            String revision = claims.get("revision");
            String exp = claims.get("exp");
            if (user == null || revision == null || (exp != null && (long) Double.parseDouble(exp) < clock.instant().getEpochSecond())) {
                return null;
            }
            return AuthHeader.newBuilder().setUsername(user).setAuthRevision((long) Double.parseDouble(revision)).build();
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public void invalidateUser(String user) {
        // a signed token cannot be taken back; the auth revision it carries makes it old
    }

    @Override
    public void enable() {
        // as etcd's: signed tokens need no state
    }

    @Override
    public void disable() {
        // as etcd's: a token stays verifiable; with auth disabled nothing is checked anyway
    }

    private static String algorithm(String method) {
        return switch (method) {
            case "RS256" -> "SHA256withRSA";
            case "RS384" -> "SHA384withRSA";
            case "RS512" -> "SHA512withRSA";
            case "ES256" -> "SHA256withECDSAinP1363Format";
            case "ES384" -> "SHA384withECDSAinP1363Format";
            case "ES512" -> "SHA512withECDSAinP1363Format";
            case "PS256", "PS384", "PS512" -> "RSASSA-PSS";
            default -> null;
        };
    }

    private static Signature signature(String method) throws GeneralSecurityException {
        Signature s = Signature.getInstance(algorithm(method));
        if (method.startsWith("PS")) {
            String hash = "SHA-" + method.substring(2);
            int saltBytes = Integer.parseInt(method.substring(2)) / 8;
            s.setParameter(new PSSParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), saltBytes, 1));
        }
        return s;
    }

    // ---- PEM keys ----

    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]*)-----END \\1-----");

    /** The DER of the first PEM block labelled {@code label}, or null. */
    private static byte[] pem(String text, String label) {
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(label)) {
                return Base64.getMimeDecoder().decode(m.group(2).trim());
            }
        }
        return null;
    }

    static PublicKey publicKey(String keyType, String pemText) throws GeneralSecurityException {
        KeyFactory kf = KeyFactory.getInstance(keyType);
        byte[] der = pem(pemText, "PUBLIC KEY");
        if (der != null) {
            return kf.generatePublic(new X509EncodedKeySpec(der));
        }
        der = pem(pemText, "RSA PUBLIC KEY");
        if (der != null) {
            RSAPublicKey k = RSAPublicKey.getInstance(der);
            return kf.generatePublic(new RSAPublicKeySpec(k.getModulus(), k.getPublicExponent()));
        }
        throw new IllegalArgumentException("no PUBLIC KEY or RSA PUBLIC KEY block in the pub-key file");
    }

    static PrivateKey privateKey(String keyType, String pemText) throws GeneralSecurityException {
        KeyFactory kf = KeyFactory.getInstance(keyType);
        byte[] der = pem(pemText, "PRIVATE KEY");
        if (der != null) {
            return kf.generatePrivate(new PKCS8EncodedKeySpec(der));
        }
        der = pem(pemText, "RSA PRIVATE KEY");
        if (der != null) {
            RSAPrivateKey k = RSAPrivateKey.getInstance(der);
            return kf.generatePrivate(new RSAPrivateCrtKeySpec(k.getModulus(), k.getPublicExponent(),
                    k.getPrivateExponent(), k.getPrime1(), k.getPrime2(), k.getExponent1(), k.getExponent2(),
                    k.getCoefficient()));
        }
        der = pem(pemText, "EC PRIVATE KEY");
        if (der != null) {
            ECPrivateKey k = ECPrivateKey.getInstance(der);
            try {
                PrivateKeyInfo info = new PrivateKeyInfo(
                        new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, k.getParametersObject()), k);
                return kf.generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
            } catch (IOException e) {
                throw new IllegalArgumentException("invalid EC PRIVATE KEY", e);
            }
        }
        throw new IllegalArgumentException("no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block in the priv-key file");
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** A JSON object of strings, numbers, booleans and nulls (what JWT headers and etcd's claims hold), values as text. */
    static final class FlatJson {
        private final String s;
        private int at;

        private FlatJson(String s) {
            this.s = s;
        }

        static Map<String, String> parse(String json) {
            FlatJson p = new FlatJson(json);
            Map<String, String> out = new java.util.HashMap<>();
            p.expect('{');
            if (p.peek() == '}') {
                p.at++;
                return out;
            }
            do {
                String key = p.string();
                p.expect(':');
                out.put(key, p.value());
            } while (p.comma());
            p.expect('}');
            return out;
        }

        private char peek() {
            while (at < s.length() && Character.isWhitespace(s.charAt(at))) {
                at++;
            }
            if (at >= s.length()) {
                throw new IllegalArgumentException("truncated JSON");
            }
            return s.charAt(at);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException("expected " + c + " at " + at);
            }
            at++;
        }

        private boolean comma() {
            if (peek() == ',') {
                at++;
                return true;
            }
            return false;
        }

        private String value() {
            if (peek() == '"') {
                return string();
            }
            int start = at;
            while (at < s.length() && ",}".indexOf(s.charAt(at)) < 0 && !Character.isWhitespace(s.charAt(at))) {
                at++;
            }
            String v = s.substring(start, at);
            if (v.isEmpty() || v.startsWith("{") || v.startsWith("[")) {
                throw new IllegalArgumentException("unsupported JSON value at " + start);
            }
            return v;
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (at < s.length() && s.charAt(at) != '"') {
                char c = s.charAt(at++);
                if (c == '\\') {
                    char e = s.charAt(at++);
                    switch (e) {
                        case 'n' -> b.append('\n');
                        case 't' -> b.append('\t');
                        case 'r' -> b.append('\r');
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'u' -> {
                            b.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                            at += 4;
                        }
                        default -> b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
            expect('"');
            return b.toString();
        }
    }
}
