package io.vigil.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.client.VigilClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The client jar as a user gets it (this module's tests run against the packaged, shaded jar)
 * brings no gRPC, Netty, protobuf or Guava classes of its own names: they are relocated under
 * io.vigil.client.shaded, so they cannot clash with the user's versions (jetcd #1370). The other
 * tests here run it beside the server's own, unshaded gRPC 1.85 in one JVM.
 */
class ClientJarTest {
    @Test
    void theClientJarHoldsOnlyItsOwnPackages() throws Exception {
        Path jar = Path.of(VigilClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Assumptions.assumeTrue(Files.isRegularFile(jar), "the client is not packaged here (an IDE run): " + jar);
        try (JarFile j = new JarFile(jar.toFile())) {
            List<String> foreign = j.stream().map(e -> e.getName())
                    .filter(n -> n.endsWith(".class"))
                    .filter(n -> n.startsWith("io/grpc/") || n.startsWith("com/google/") || n.startsWith("io/netty/")
                            || n.startsWith("io/vigil/proto/"))
                    .toList();
            assertEquals(List.of(), foreign);
            assertTrue(j.getEntry("io/vigil/client/shaded/io/grpc/ManagedChannel.class") != null, "gRPC is inside, relocated");
        }
    }
}
