package io.vigil.robustness.cluster;

import io.vigil.testkit.Link;
import java.util.List;

/**
 * How the members of a cluster reach each other's peer listener: through fault proxies, so that
 * the link carrying what one member sends to another can be blackholed or delayed.
 */
interface PeerLinks extends AutoCloseable {
    /** Sets up the proxies into and out of {@code m}, a new member; call before it starts. */
    void add(Member m);

    /** Closes the proxies into and out of {@code m}, a removed member. */
    void remove(Member m);

    /** The peer URL {@code m} advertises and every member names it by. */
    String advertisedPeerUrl(Member m);

    /** JVM options the member's process needs to dial through the links (none for a non-Java server). */
    List<String> jvmOptions(Member m);

    /** The faults of what {@code from} sends to {@code to}. */
    Link link(Member from, Member to);

    /** Every link into or out of {@code m}, including those of traffic whose other end is not known. */
    List<Link> linksOf(Member m);

    /** Every link. */
    List<Link> all();

    @Override
    void close();
}
