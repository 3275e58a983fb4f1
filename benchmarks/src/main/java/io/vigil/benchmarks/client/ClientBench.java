package io.vigil.benchmarks.client;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Java clients side by side against one server (issue 20's benchmark): Vigil's client and jetcd
 * doing what a Kubernetes-style cache does, in alternating rounds after warm-up rounds.
 *
 * <ul>
 *   <li>{@code sync}: list {@code --objects} keys of {@code --value-size} bytes into a map: the
 *       time until the cache holds them all.
 *   <li>{@code replay}: watch the prefix from a revision {@code --events} updates back and apply
 *       them to the cache: events applied per second (the client's decoding and delivery, with
 *       the server's replay far faster than either client).
 * </ul>
 *
 * Usage: {@code ClientBench --endpoint HOST:PORT [--objects 100000] [--events 100000]
 * [--value-size 256] [--rounds 5] [--warmup-rounds 2]}; the data is written once with jetcd, 256
 * puts in flight.
 * Prints one line per round and client, then medians and the ratio vigil-client / jetcd. A third
 * contestant, Vigil's {@code Informer}, only syncs, as a full informer does.
 */
public final class ClientBench {
    private static final String PREFIX = "cb/obj/";

    private ClientBench() {
    }

    public static void main(String[] args) throws Exception {
        String endpoint = null;
        int objects = 100_000;
        int events = 100_000;
        int valueSize = 256;
        int rounds = 5;
        int warmupRounds = 2;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--endpoint" -> endpoint = args[i + 1];
                case "--objects" -> objects = Integer.parseInt(args[i + 1]);
                case "--events" -> events = Integer.parseInt(args[i + 1]);
                case "--value-size" -> valueSize = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--warmup-rounds" -> warmupRounds = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown flag " + args[i]);
            }
        }
        if (endpoint == null) {
            throw new IllegalArgumentException("--endpoint HOST:PORT is required");
        }
        long replayFrom = prepare(endpoint, objects, events, valueSize);
        List<CacheClient> clients = List.of(new VigilCacheClient(endpoint), new JetcdCacheClient(endpoint),
                new InformerCacheClient(endpoint));
        double[][] syncMs = new double[clients.size()][rounds];
        double[][] replayRate = new double[clients.size()][rounds];
        try {
            for (int round = -warmupRounds; round < rounds; round++) {
                for (int k = 0; k < clients.size(); k++) {
                    // alternate who goes first; rounds below 0 warm both up, unmeasured
                    int c = Math.floorMod(round, 2) == 0 ? k : clients.size() - 1 - k;
                    CacheClient client = clients.get(c);
                    long t0 = System.nanoTime();
                    client.sync(PREFIX);
                    long t1 = System.nanoTime();
                    if (client.cached() != objects) {
                        throw new IllegalStateException(client.name() + " listed " + client.cached() + " of " + objects);
                    }
                    if (client.replays()) {
                        client.watchUntil(PREFIX, replayFrom, events);
                    }
                    long t2 = System.nanoTime();
                    if (round >= 0) {
                        syncMs[c][round] = (t1 - t0) / 1e6;
                        replayRate[c][round] = client.replays() ? events / ((t2 - t1) / 1e9) : Double.NaN;
                        out(String.format(Locale.ROOT, "round %d %-14s sync %8.1f ms   replay %10.0f events/s",
                                round + 1, client.name(), syncMs[c][round], replayRate[c][round]));
                    }
                }
            }
        } finally {
            for (CacheClient c : clients) {
                c.close();
            }
        }
        double ourSync = median(syncMs[0]);
        double theirSync = median(syncMs[1]);
        double informerSync = median(syncMs[2]);
        double ourRate = median(replayRate[0]);
        double theirRate = median(replayRate[1]);
        out(String.format(Locale.ROOT, "median sync of %d objects: vigil-client %.1f ms, jetcd %.1f ms (ratio %.2f)",
                objects, ourSync, theirSync, ourSync / theirSync));
        out(String.format(Locale.ROOT, "median sync of %d objects: vigil Informer %.1f ms (ratio to jetcd's list %.2f)",
                objects, informerSync, informerSync / theirSync));
        out(String.format(Locale.ROOT, "median replay of %d events: vigil-client %.0f/s, jetcd %.0f/s (ratio %.2f)",
                events, ourRate, theirRate, ourRate / theirRate));
    }

    /** Writes the objects, then the updates; returns the revision the updates start at. */
    private static long prepare(String endpoint, int objects, int events, int valueSize) throws Exception {
        byte[] value = new byte[valueSize];
        Arrays.fill(value, (byte) 'v');
        try (Client client = Client.builder().endpoints("http://" + endpoint).build()) {
            KV kv = client.getKVClient();
            ByteSequence prefix = ByteSequence.from(PREFIX, StandardCharsets.UTF_8);
            kv.delete(prefix, io.etcd.jetcd.options.DeleteOption.builder().isPrefix(true).build()).get(10, TimeUnit.MINUTES);
            putAll(kv, objects, objects, 0, value);
            long before = kv.get(prefix).get(1, TimeUnit.MINUTES).getHeader().getRevision();
            putAll(kv, events, objects, 1, value);
            return before + 1;
        }
    }

    /** {@code count} puts to keys 0..keys-1 in turn, values marked with {@code generation}. */
    private static void putAll(KV kv, int count, int keys, int generation, byte[] value) throws Exception {
        Semaphore inFlight = new Semaphore(256);
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            inFlight.acquire();
            ByteSequence key = ByteSequence.from(PREFIX + String.format("%08d", i % keys), StandardCharsets.UTF_8);
            value[0] = (byte) ('a' + generation);
            CompletableFuture<?> f = kv.put(key, ByteSequence.from(value)).whenComplete((r, e) -> inFlight.release());
            pending.add(f);
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** The report goes to standard output: this is a command-line tool. */
    private static void out(String line) {
        System.out.println(line);
    }
}
