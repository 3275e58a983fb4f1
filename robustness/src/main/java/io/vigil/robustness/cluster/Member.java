package io.vigil.robustness.cluster;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A member of a cluster under test: a name that is never reused in a run, its client endpoint
 * and peer ports (never reused either), its data directory, and the server process currently
 * running it (none while killed). A member removed by {@link Cluster#removeAndAdd} stays removed;
 * its replacement is a new member.
 */
public final class Member {
    private final String name;
    /** Which member of the run this is, in order of creation: 0, 1, 2, then 3 for the first added. */
    private final int slot;
    private final int clientPort;
    private final int peerPort;
    private final Path dataDir;
    private volatile long id;
    private volatile MemberProcess process;
    /** The flags it was first started with, and restarts with (a restart with a data dir ignores the cluster ones). */
    private volatile List<String> command = List.of();
    private volatile Map<String, String> environment = Map.of();

    Member(String name, int slot, int clientPort, int peerPort, Path dataDir) {
        this.name = name;
        this.slot = slot;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.dataDir = dataDir;
    }

    public String name() {
        return name;
    }

    /** host:port of its gRPC client listener. */
    public String endpoint() {
        return "127.0.0.1:" + clientPort;
    }

    /** Its member id in the cluster (0 until known). */
    public long id() {
        return id;
    }

    /** Whether its process is running (paused or not). */
    public boolean isRunning() {
        MemberProcess p = process;
        return p != null && p.isAlive();
    }

    public boolean isPaused() {
        MemberProcess p = process;
        return p != null && p.isPaused();
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The log its processes wrote, one after the other. */
    public Path log() {
        return dataDir.resolveSibling(name + ".log");
    }

    int slot() {
        return slot;
    }

    int clientPort() {
        return clientPort;
    }

    /** The port it listens for peers on (its advertised peer URL is a proxy's). */
    int peerPort() {
        return peerPort;
    }

    void id(long id) {
        this.id = id;
    }

    MemberProcess process() {
        return process;
    }

    void process(MemberProcess p) {
        this.process = p;
    }

    List<String> command() {
        return command;
    }

    void command(List<String> command) {
        this.command = List.copyOf(command);
    }

    Map<String, String> launchEnvironment() {
        return environment;
    }

    void launchEnvironment(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    @Override
    public String toString() {
        return name + (id == 0 ? "" : "(" + Long.toHexString(id) + ")") + "@" + endpoint();
    }
}
