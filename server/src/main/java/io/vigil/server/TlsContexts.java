package io.vigil.server;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.grpc.netty.NettySslContextChannelCredentials;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolConfig;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import java.net.URI;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * A member's TLS, built once from {@link TlsSettings}: the client port's and the peer port's
 * server credentials, and the credentials of the channels it opens itself, by the URL's scheme
 * (plaintext for http://). Channels to peers present the peer certificate and trust the peer
 * CA; channels to other members' client URLs (the corruption check's HashKV) present the client
 * port's certificate and trust its CA, as etcd's own client connections do, so that certificate
 * needs client authentication among its uses when the client port requires client certificates.
 *
 * <p>Certificates and CAs are read again when their files change ({@link ReloadingKeyManager},
 * {@link ReloadingTrustManager}); the contexts stay, so they use Java's TLS (the JDK provider,
 * which asks the key and trust managers at every handshake).
 */
final class TlsContexts {
    /** The client port's ALPN: HTTP/1.1 first, so a client that offers it (curl, a scraper) gets /metrics; gRPC clients offer only h2. */
    private static final ApplicationProtocolConfig CLIENT_PORT_ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            "http/1.1", "h2");

    /** Null when the port has no key pair (it serves plaintext). */
    private final SslContext clientPort;
    /** The client port serving gRPC alone (--listen-client-http-urls set): gRPC's ALPN, h2 only. */
    private final SslContext clientPortGrpc;
    private final SslContext peerPort;
    /** Without a key pair these present no certificate, and trust Java's CAs without a CA file. */
    private final ChannelContext toPeers;
    private final ChannelContext toClientUrls;

    /**
     * @throws IllegalArgumentException naming the file or the cipher suite at fault. A member
     *     without any TLS flag builds its channel contexts when it first dials an https:// URL:
     *     loading Java's CAs and its TLS took ~0.25 s of every plaintext member's start, and with
     *     no file or suite named nothing there can fail but Java itself. The thread of that first
     *     dial (a Raft tick, an event loop) pays the ~0.25 s once; only a member without TLS
     *     flags among https:// members does.
     */
    TlsContexts(TlsSettings settings) {
        if (settings.equals(TlsSettings.NONE)) {
            clientPort = clientPortGrpc = peerPort = null;
            List<String> protocols = settings.protocols();
            toPeers = new ChannelContext(() -> tuned(plainClient(), null, new ReloadingTrustManager(null), protocols, null));
            toClientUrls = toPeers;
            return;
        }
        List<String> suites = settings.enabledSuites();
        if (suites != null) {
            checkSupported(suites);
        }
        List<String> protocols = settings.protocols();
        TlsSettings.Side client = settings.client();
        TlsSettings.Side peer = settings.peer();
        ReloadingKeyManager clientKeys = client.hasKeyPair() ? new ReloadingKeyManager(client.certFile(), client.keyFile()) : null;
        ReloadingKeyManager peerKeys = peer.hasKeyPair() ? new ReloadingKeyManager(peer.certFile(), peer.keyFile()) : null;
        ReloadingTrustManager clientTrust = new ReloadingTrustManager(client.trustedCaFile());
        ReloadingTrustManager peerTrust = new ReloadingTrustManager(peer.trustedCaFile());
        try {
            clientPort = clientKeys == null ? null : tuned(SslContextBuilder.forServer(clientKeys)
                    .sslProvider(SslProvider.JDK)
                    .applicationProtocolConfig(CLIENT_PORT_ALPN), client, clientTrust, protocols, suites);
            clientPortGrpc = clientKeys == null ? null : tuned(GrpcSslContexts.configure(SslContextBuilder.forServer(clientKeys),
                    SslProvider.JDK), client, clientTrust, protocols, suites);
            peerPort = peerKeys == null ? null : tuned(GrpcSslContexts.configure(SslContextBuilder.forServer(peerKeys),
                    SslProvider.JDK), peer, peerTrust, protocols, suites);
            toPeers = new ChannelContext(tuned(plainClient().keyManager(peerKeys), null, peerTrust, protocols, suites));
            toClientUrls = new ChannelContext(tuned(plainClient().keyManager(clientKeys), null, clientTrust, protocols, suites));
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** Whether a channel context exists yet (tests: a member without TLS flags builds none at start). */
    boolean channelContextsBuilt() {
        return toPeers.built() || toClientUrls.built();
    }

    private static SslContextBuilder plainClient() {
        return GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK);
    }

    /** A channel context built at once, or once when first asked for. */
    private static final class ChannelContext {
        interface Build {
            SslContext build() throws SSLException;
        }

        private Build build;
        private SslContext built;

        ChannelContext(SslContext built) {
            this.built = built;
        }

        ChannelContext(Build build) {
            this.build = build;
        }

        synchronized boolean built() {
            return built != null;
        }

        synchronized SslContext get() {
            if (built == null) {
                try {
                    built = build.build();
                } catch (SSLException e) {
                    throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
                }
                build = null;
            }
            return built;
        }
    }

    private static SslContext tuned(SslContextBuilder b, TlsSettings.Side server, ReloadingTrustManager trust,
            List<String> protocols, List<String> suites) throws SSLException {
        b.trustManager(trust).protocols(protocols);
        if (server != null) {
            b.clientAuth(server.requiresClientCert() ? ClientAuth.REQUIRE : ClientAuth.NONE);
        }
        if (suites != null) {
            b.ciphers(suites);
        }
        return b.build();
    }

    /** etcd's message for a suite it does not know; Java's names are the IANA ones Go uses. */
    private static void checkSupported(List<String> suites) {
        Set<String> supported;
        try {
            supported = new TreeSet<>(Arrays.asList(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no TLS in this Java: " + e, e);
        }
        for (String s : suites) {
            if (!supported.contains(s)) {
                throw new IllegalArgumentException("--cipher-suites: unexpected TLS cipher suite \"" + s
                        + "\" (not supported by this Java)");
            }
        }
    }

    /**
     * The client port: TLS (when it has a key pair) in front of gRPC and, when {@code withHttp},
     * the HTTP endpoints beside it ({@link ClientPortHttp}'s sniffing); without, gRPC's own
     * plaintext negotiation alone, as on the peer port.
     */
    ServerCredentials clientPort(ClientPortHttp http, boolean withHttp) {
        if (!withHttp) {
            return clientPortGrpc == null ? InsecureServerCredentials.create()
                    : InternalNettyServerCredentials.create(new ServerTls(clientPortGrpc, InternalProtocolNegotiators.serverPlaintext()));
        }
        return InternalNettyServerCredentials.create(clientPort == null ? http.negotiator()
                : new ServerTls(clientPort, http.negotiator()));
    }

    /** The client HTTP URLs' TLS (--listen-client-http-urls): the client port's certificate; null without one. */
    SslContext clientHttp() {
        return clientPort;
    }

    /** The peer port: TLS when it has a key pair. */
    ServerCredentials peerPort() {
        return peerPort == null ? InsecureServerCredentials.create()
                : InternalNettyServerCredentials.create(new ServerTls(peerPort, InternalProtocolNegotiators.serverPlaintext()));
    }

    /** For a channel to a member's peer URL. */
    ChannelCredentials toPeer(URI url) {
        return Urls.secure(url) ? NettySslContextChannelCredentials.create(toPeers.get())
                : InsecureChannelCredentials.create();
    }

    /** For a channel to a member's client URL. */
    ChannelCredentials toClientUrl(URI url) {
        return Urls.secure(url) ? NettySslContextChannelCredentials.create(toClientUrls.get())
                : InsecureChannelCredentials.create();
    }
}
