package io.vigil.robustness.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One server process of a member, with its output appended to a log file. Signals go to the
 * process itself: a launcher must exec the server (bin/vigil does), or SIGSTOP and SIGKILL would
 * hit the shell and leave the server running.
 */
final class MemberProcess {
    /** How long a SIGTERM'd server may take to stop before it is killed. */
    static final long STOP_SECONDS = 10;

    private final Process process;
    private final Path log;
    private volatile boolean paused;

    private MemberProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static MemberProcess start(List<String> command, Map<String, String> environment, Path workDir, Path log) {
        try {
            Files.createDirectories(log.getParent());
            ProcessBuilder pb = new ProcessBuilder(command)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().putAll(environment);
            Files.writeString(log, "### " + String.join(" ", command) + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            return new MemberProcess(pb.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    boolean isPaused() {
        return paused;
    }

    /** SIGKILL, and wait for the process to be gone. */
    void kill() {
        process.destroyForcibly();
        awaitExit(30);
    }

    /** SIGSTOP: the process keeps its sockets and memory and does nothing, as a long GC pause. */
    void pause() {
        signal("STOP");
        paused = true;
    }

    /** SIGCONT. */
    void resume() {
        signal("CONT");
        paused = false;
    }

    /** SIGTERM (after SIGCONT if paused), SIGKILL if it has not stopped within {@value #STOP_SECONDS} s. */
    void stop() {
        if (!process.isAlive()) {
            return;
        }
        if (paused) {
            resume();
        }
        process.destroy();
        if (!awaitExit(STOP_SECONDS)) {
            kill();
        }
    }

    private boolean awaitExit(long seconds) {
        try {
            return process.waitFor(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    private void signal(String signal) {
        if (!process.isAlive()) {
            throw new IllegalStateException("process " + pid() + " is not running");
        }
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted signalling " + pid(), e);
        }
    }
}
