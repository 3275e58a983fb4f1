package io.vigil.server;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One server's side of an etcdctl session in a differential test. Lease IDs are random in etcd,
 * so each server's IDs are captured from its own grant output, substituted into later commands
 * ({@code $L1} …) and masked as L1, L2 … in what is compared; remaining TTLs depend on how long
 * etcdctl took and are masked when positive; etcd lists a lease's keys in Go map order, so they
 * are compared sorted.
 */
class EtcdctlSide {
    private static final Pattern GRANTED = Pattern.compile("lease ([0-9a-f]{16}) granted with|\"ID\":(\\d+)");

    final String endpoint;
    final List<Long> leases = new ArrayList<>();

    EtcdctlSide(String endpoint) {
        this.endpoint = endpoint;
    }

    /** Runs etcdctl with {@code args} (and {@code stdin}, or none), leases substituted; what it printed, masked. */
    String run(String stdin, String... args) {
        String[] substituted = Arrays.stream(args).map(this::substitute).toArray(String[]::new);
        Etcdctl.Result r = Etcdctl.run(endpoint, stdin == null ? null : substitute(stdin), substituted);
        int verb = 0;
        while (verb < substituted.length && substituted[verb].startsWith("--")) {
            // global flags before the command: --user takes the next argument
            verb += substituted[verb].equals("--user") ? 2 : 1;
        }
        if (substituted.length > verb + 1 && substituted[verb].equals("lease") && substituted[verb + 1].equals("grant")) {
            Matcher m = GRANTED.matcher(r.stdout());
            if (m.find()) {
                leases.add(m.group(1) != null ? Long.parseUnsignedLong(m.group(1), 16) : Long.parseLong(m.group(2)));
            }
        }
        return mask(r.normalized());
    }

    String substitute(String s) {
        for (int i = leases.size(); i >= 1; i--) {
            s = s.replace("$L" + i, Long.toHexString(leases.get(i - 1)));
        }
        return s;
    }

    private String mask(String out) {
        out = out.replace(endpoint, "ENDPOINT");
        for (int i = 0; i < leases.size(); i++) {
            long id = leases.get(i);
            out = out.replace(String.format("%016x", id), "L" + (i + 1))
                    .replace(Long.toHexString(id), "L" + (i + 1))
                    .replace(Long.toString(id), "L" + (i + 1));
        }
        out = out.replaceAll("remaining\\(\\d+s\\)", "remaining(Rs)")
                .replaceAll("\"ttl\":\\d+", "\"ttl\":R");
        return sortKeyLists(out);
    }

    /** etcd lists a lease's keys in Go map order, i.e. at random: compare them sorted. */
    static String sortKeyLists(String out) {
        out = replaceAll(out, Pattern.compile("attached keys\\(\\[([^\\]]*)\\]\\)"),
                m -> "attached keys([" + Arrays.stream(m.group(1).split(" ")).sorted().collect(Collectors.joining(" ")) + "])");
        return replaceAll(out, Pattern.compile("\"keys\":\\[([^\\]]*)\\]"),
                m -> "\"keys\":[" + Arrays.stream(m.group(1).split(",")).sorted().collect(Collectors.joining(",")) + "]");
    }

    private static String replaceAll(String s, Pattern p, java.util.function.Function<Matcher, String> f) {
        Matcher m = p.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(f.apply(m)));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
