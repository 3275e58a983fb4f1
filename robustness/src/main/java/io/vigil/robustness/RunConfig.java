package io.vigil.robustness;

import io.vigil.robustness.nemesis.FaultKind;
import io.vigil.robustness.traffic.Traffic;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A run's settings, from {@code robustness/run}'s flags. Every flag has a default, so the bare
 * command is a complete run; {@link #command()} prints the flags that repeat this run.
 */
record RunConfig(String target, long seed, Duration duration, Traffic.Kind traffic, int clients, Set<FaultKind> faults,
                 Path results, String testFault, boolean expectViolation, Path check) {

    static final String USAGE = """
            robustness/run [flags]
              --target vigil|etcd        the cluster under test (default vigil; etcd is Debian's etcd 3.4)
              --seed N                   picks of traffic and faults (default: random, printed)
              --duration D               traffic and faults for D: 90s, 5m, 30m (default 60s)
              --traffic K                etcd | kubernetes | mixed (default mixed)
              --clients N                concurrent clients (default 8)
              --faults K,K|all|none      fault kinds (default all): %s
              --results DIR              where runs are written (default robustness/results)
              --test-fault NAME          vigil only: start members with --experimental-test-fault=NAME
              --expect-violation         succeed only if a violation is found (to show the checkers catch a test fault)
              --check FILE               judge a recorded history.jsonl again; no cluster
            """.formatted(String.join(", ", FaultKind.names()));

    static RunConfig parse(String[] args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + a);
            }
            String name = a.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (name.equals("expect-violation") || name.equals("help")) {
                value = "true";
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("flag --" + name + " needs a value");
            }
            flags.put(name, value);
        }
        String target = take(flags, "target", "vigil");
        if (!target.equals("vigil") && !target.equals("etcd")) {
            throw new IllegalArgumentException("--target must be vigil or etcd, got " + target);
        }
        long seed = Long.parseLong(take(flags, "seed", Long.toString(new java.util.Random().nextLong() & Long.MAX_VALUE)));
        Duration duration = duration(take(flags, "duration", "60s"));
        Traffic.Kind traffic = Traffic.Kind.parse(take(flags, "traffic", "mixed"));
        int clients = Integer.parseInt(take(flags, "clients", "8"));
        if (clients < 1) {
            throw new IllegalArgumentException("--clients must be at least 1");
        }
        Set<FaultKind> faults = faults(take(flags, "faults", "all"));
        Path results = Path.of(take(flags, "results", "robustness/results"));
        String testFault = take(flags, "test-fault", "");
        if (!testFault.isEmpty() && !target.equals("vigil")) {
            throw new IllegalArgumentException("--test-fault is for --target vigil");
        }
        boolean expectViolation = Boolean.parseBoolean(take(flags, "expect-violation", "false"));
        String check = take(flags, "check", "");
        if (flags.containsKey("help")) {
            throw new IllegalArgumentException("help");
        }
        if (!flags.isEmpty()) {
            throw new IllegalArgumentException("unknown flag --" + flags.keySet().iterator().next());
        }
        return new RunConfig(target, seed, duration, traffic, clients, faults, results, testFault, expectViolation,
                check.isEmpty() ? null : Path.of(check));
    }

    /** The flags that repeat this run (the seed fixes the picks; what the servers do may still differ). */
    String command() {
        StringBuilder s = new StringBuilder("robustness/run --target " + target + " --seed " + seed + " --duration "
                + duration.toSeconds() + "s --traffic " + traffic.name().toLowerCase(Locale.ROOT) + " --clients " + clients
                + " --faults " + (faults.isEmpty() ? "none" : String.join(",", faults.stream().map(FaultKind::flagName).toList())));
        if (!testFault.isEmpty()) {
            s.append(" --test-fault ").append(testFault);
        }
        if (expectViolation) {
            s.append(" --expect-violation");
        }
        return s.toString();
    }

    private static String take(Map<String, String> flags, String name, String absent) {
        String v = flags.remove(name);
        return v == null ? absent : v;
    }

    static Duration duration(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("h")) {
                return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            return Duration.ofSeconds(Long.parseLong(t));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--duration: not a duration: " + s);
        }
    }

    static Set<FaultKind> faults(String s) {
        if (s.equals("all")) {
            return EnumSet.allOf(FaultKind.class);
        }
        if (s.equals("none")) {
            return EnumSet.noneOf(FaultKind.class);
        }
        Set<FaultKind> kinds = EnumSet.noneOf(FaultKind.class);
        for (String name : s.split(",")) {
            kinds.add(FaultKind.ofFlagName(name.trim()));
        }
        return kinds;
    }
}
