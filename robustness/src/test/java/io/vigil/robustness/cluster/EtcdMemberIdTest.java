package io.vigil.robustness.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class EtcdMemberIdTest {
    @Test
    void anInitialMembersIdIsDerivedAsEtcdDerivesIt() {
        // etcd's own default: "default" at http://localhost:2380 in cluster "etcd-cluster" is 8e9e05c52164694d
        assertEquals(0x8e9e05c52164694dL, EtcdCluster.memberId(List.of("http://localhost:2380"), "etcd-cluster"));
    }

    @Test
    void theSenderOfARequestIsItsXServerFromHeader() {
        byte[] head = ("GET /raft/stream/msgappv2/8e9e05c52164694d HTTP/1.1\r\nHost: x\r\n"
                + "X-Server-From: 8e9e05c52164694d\r\nX-Raft-To: 1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(0x8e9e05c52164694dL, SenderRoutedLinks.serverFrom(head));
        assertEquals(0, SenderRoutedLinks.serverFrom("GET /version HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)));
    }
}
