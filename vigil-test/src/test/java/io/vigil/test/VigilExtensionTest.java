package io.vigil.test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vigil.client.KeyValue;
import io.vigil.client.Op;
import io.vigil.client.VigilClient;
import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The extension as a user's test meets it: one member per class, a fresh one per test, a cluster. */
class VigilExtensionTest {
    @RegisterExtension
    static final VigilExtension vigil = VigilExtension.singleMember();

    @Test
    void aClientIsHandedToTheTest(VigilClient client) {
        client.kv().put("services/api", "10.0.0.7:8080");
        assertEquals("10.0.0.7:8080", vigil.client().kv().get("services/api").value());
        assertEquals(1, vigil.endpoints().size());
    }

    /** Registered in an instance field, the extension gives each test its own empty member. */
    @Nested
    class FreshPerTest {
        @RegisterExtension
        final VigilExtension fresh = VigilExtension.singleMember();

        @Test
        void first() {
            assertNull(fresh.client().kv().get("marker"));
            fresh.client().kv().put("marker", "first");
        }

        @Test
        void second() {
            assertNull(fresh.client().kv().get("marker"));
            fresh.client().kv().put("marker", "second");
        }
    }

    @Nested
    class ThreeMembers {
        @RegisterExtension
        static final VigilExtension cluster = VigilExtension.cluster(3);

        @Test
        void aWriteOnOneMemberIsReadOnAnother() {
            try (VigilClient first = VigilClient.builder().endpoints(cluster.endpoints().get(0)).build();
                 VigilClient third = VigilClient.builder().endpoints(cluster.endpoints().get(2)).build()) {
                long r = first.kv().put("replicated", "yes").revision();
                // a serializable read is the member's own copy: it has the write once it applied it
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    KeyValue kv = third.kv().get(Op.get("replicated").serializable()).single();
                    return kv != null && kv.modRevision() == r;
                });
                assertEquals("yes", third.kv().get("replicated").value());
            }
        }
    }
}
