package io.vigil.server;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificate authorities and the certificates they sign, written as PEM files the way openssl
 * writes them, for the TLS tests: leaf certificates carry the IP SAN 127.0.0.1 (and localhost),
 * and both server and client authentication among their uses, as etcd's peer certificates need.
 * Keys are RSA or EC (P-256), in PKCS#8 ({@code PRIVATE KEY}) as openssl writes them by default.
 */
final class TestCerts {
    private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());

    /** A CA: its certificate is {@code dir/NAME.crt}. */
    record Ca(String name, KeyPair keys, X509Certificate cert, Path certFile) {
    }

    /** A leaf certificate and its key, as files. */
    record Leaf(Path certFile, Path keyFile, BigInteger serial) {
    }

    private final Path dir;

    TestCerts(Path dir) {
        this.dir = dir;
    }

    Ca ca(String name) {
        KeyPair keys = ecKeys();
        Instant now = Instant.now();
        X500Name subject = new X500Name("CN=" + name);
        try {
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(30))), subject, keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            X509Certificate cert = sign(b, keys);
            Path file = dir.resolve(name + ".crt");
            write(file, cert);
            return new Ca(name, keys, cert, file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A certificate for 127.0.0.1 signed by {@code ca}, valid from an hour ago for a month. */
    Leaf leaf(Ca ca, String name, boolean rsa) {
        Instant now = Instant.now();
        return leaf(ca, name, rsa, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30)));
    }

    /** As {@link #leaf(Ca, String, boolean)}, expired yesterday. */
    Leaf expired(Ca ca, String name) {
        Instant now = Instant.now();
        return leaf(ca, name, true, now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)));
    }

    private Leaf leaf(Ca ca, String name, boolean rsa, Instant from, Instant to) {
        KeyPair keys = rsa ? rsaKeys() : ecKeys();
        BigInteger serial = serial();
        try {
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.cert(), serial, Date.from(from), Date.from(to),
                    new X500Name("CN=" + name), keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
            X509Certificate cert = sign(b, ca.keys());
            Path certFile = dir.resolve(name + ".crt");
            Path keyFile = dir.resolve(name + ".key");
            write(certFile, cert);
            write(keyFile, new JcaPKCS8Generator(keys.getPrivate(), null).generate());
            return new Leaf(certFile, keyFile, serial);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Puts {@code from}'s files in place of {@code to}'s, each by an atomic rename, key first. */
    static void replace(Leaf to, Leaf from) throws IOException {
        for (Path[] p : new Path[][] {{from.keyFile(), to.keyFile()}, {from.certFile(), to.certFile()}}) {
            Path tmp = p[1].resolveSibling(p[1].getFileName() + ".tmp");
            Files.copy(p[0], tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, p[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIALS.incrementAndGet());
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder b, KeyPair signer) {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(
                    new JcaContentSignerBuilder(signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA")
                            .build(signer.getPrivate())));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(Path file, Object pem) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(pem);
        }
        Files.writeString(file, out.toString());
    }

    private static KeyPair ecKeys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair rsaKeys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
