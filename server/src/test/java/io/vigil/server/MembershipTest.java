package io.vigil.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vigil.consensus.raft.ConfChange;
import io.vigil.proto.internal.MemberAttributes;
import io.vigil.proto.internal.MemberRecord;
import io.vigil.proto.internal.MembershipHistory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Published member attributes: applied in log order, durable, idempotent on replay. */
class MembershipTest {
    @TempDir
    Path dir;

    private Membership twoVoters() {
        return Membership.create(dir, 77, List.of(
                new Membership.Member(1, List.of(URI.create("http://127.0.0.1:2380")), false),
                new Membership.Member(2, List.of(URI.create("http://127.0.0.1:2381")), false)));
    }

    private static MemberAttributes attrs(long id, String name, String... clientUrls) {
        return MemberAttributes.newBuilder().setMemberId(id).setName(name).addAllClientUrls(List.of(clientUrls)).build();
    }

    private static MemberRecord record(long id, String peerUrl, boolean learner) {
        return MemberRecord.newBuilder().setId(id).addPeerUrls(peerUrl).setIsLearner(learner).build();
    }

    @Test
    void aMemberWithoutANameIsUnstartedUntilItPublishes() {
        Membership m = twoVoters();
        assertFalse(m.member(2).started());
        assertEquals("", m.member(2).name());
        assertEquals(List.of(), m.member(2).clientUrls());

        assertTrue(m.publish(5, attrs(2, "m2", "http://127.0.0.1:2379")));
        assertTrue(m.member(2).started());
        assertEquals("m2", m.member(2).name());
        assertEquals(List.of("http://127.0.0.1:2379"), m.member(2).clientUrls());
        assertFalse(m.member(1).started(), "only the member that published");
        assertEquals(5, m.appliedIndex());
    }

    @Test
    void publishedAttributesSurviveAReloadAndAReplayDoesNotUndoALaterPublish() {
        Membership m = twoVoters();
        m.publish(5, attrs(2, "m2", "http://127.0.0.1:2379"));
        m.publish(7, attrs(2, "m2", "http://127.0.0.1:3379"));

        Membership reloaded = Membership.load(dir);
        assertEquals(List.of("http://127.0.0.1:3379"), reloaded.member(2).clientUrls());
        // a restart replays entries above the store's applied index, which may be below these
        assertTrue(reloaded.publish(5, attrs(2, "m2", "http://127.0.0.1:2379")));
        assertTrue(reloaded.publish(7, attrs(2, "m2", "http://127.0.0.1:2379")));
        assertEquals(List.of("http://127.0.0.1:3379"), reloaded.member(2).clientUrls());
        assertEquals(List.of("http://127.0.0.1:3379"), Membership.load(dir).member(2).clientUrls());
        assertEquals(1, reloaded.history().getPublishedCount(), "one record per member");
    }

    @Test
    void attributesOfANonMemberAreIgnored() {
        Membership m = twoVoters();
        assertFalse(m.publish(4, attrs(9, "ghost", "http://127.0.0.1:9")));
        assertNull(m.member(9));
        assertEquals(0, Membership.load(dir).history().getPublishedCount());

        m.publish(5, attrs(2, "m2", "http://127.0.0.1:2379"));
        assertTrue(m.apply(6, new ConfChange(ConfChange.Type.REMOVE, 2), record(2, "http://127.0.0.1:2381", false)));
        assertEquals(0, m.history().getPublishedCount(), "a removed member's attributes go with it");
        assertFalse(m.publish(7, attrs(2, "m2", "http://127.0.0.1:2379")), "no longer a member");
        assertNull(Membership.load(dir).member(2));
    }

    @Test
    void confChangesKeepWhatAMemberPublished() {
        Membership m = twoVoters();
        assertTrue(m.apply(3, new ConfChange(ConfChange.Type.ADD_LEARNER, 3), record(3, "http://127.0.0.1:2382", true)));
        m.publish(4, attrs(3, "m3", "http://127.0.0.1:2378"));
        m.publish(5, attrs(1, "m1", "http://127.0.0.1:2377"));
        assertTrue(m.apply(6, new ConfChange(ConfChange.Type.ADD_VOTER, 3), record(3, "http://127.0.0.1:2382", false)));
        assertTrue(m.apply(7, new ConfChange(ConfChange.Type.UPDATE, 1), record(1, "http://127.0.0.1:2390", false)));

        Membership reloaded = Membership.load(dir);
        assertFalse(reloaded.member(3).learner());
        assertEquals("m3", reloaded.member(3).name());
        assertEquals(List.of(URI.create("http://127.0.0.1:2390")), reloaded.member(1).peerUrls());
        assertEquals(List.of("http://127.0.0.1:2377"), reloaded.member(1).clientUrls());
        // conf change replay below the applied index still answers from the history
        assertTrue(reloaded.apply(6, new ConfChange(ConfChange.Type.ADD_VOTER, 3), record(3, "http://127.0.0.1:2382", false)));
        assertFalse(reloaded.apply(5, new ConfChange(ConfChange.Type.REMOVE, 1), record(1, "http://127.0.0.1:2390", false)),
                "index 5 was an attributes entry, not a change");
        assertEquals(3, reloaded.confAt(7).voters().size(), "three voters at index 7");
    }

    @Test
    void aHistoryFromBeforePublishingLoads() throws Exception {
        MembershipHistory old = MembershipHistory.newBuilder().setClusterId(77)
                .addBootstrap(record(1, "http://127.0.0.1:2380", false).toBuilder().setName("m1"))
                .addBootstrap(record(2, "http://127.0.0.1:2381", false).toBuilder().setName("m2"))
                .setAppliedIndex(3).build();
        Files.write(dir.resolve(Membership.FILE), old.toByteArray());
        Membership m = Membership.load(dir);
        assertEquals(2, m.members().size());
        assertTrue(m.member(1).started(), "an initial member is named from the start, as etcd bootstraps it");
        assertEquals(List.of(), m.member(1).clientUrls());
        assertTrue(m.publish(4, attrs(1, "m1x", "http://127.0.0.1:2379")));
        assertEquals("m1x", Membership.load(dir).member(1).name(), "a published name replaces it");
        assertEquals(List.of("http://127.0.0.1:2379"), Membership.load(dir).member(1).clientUrls());
    }
}
