package io.vigil.benchmarks.client;

import io.vigil.client.KeyValue;
import io.vigil.client.VigilClient;
import io.vigil.client.recipes.Informer;
import java.time.Duration;

/**
 * {@link CacheClient}'s sync as Vigil's {@link Informer} does it: list, cache (values decoded as
 * text), then its watch, until it reflects the revision current before it started. It has no
 * replay: an informer watches from its own list, not from a chosen revision.
 */
final class InformerCacheClient implements CacheClient {
    private final VigilClient client;
    private Informer<String> informer;

    InformerCacheClient(String endpoint) {
        client = VigilClient.builder().endpoints(endpoint).build();
    }

    @Override
    public String name() {
        return "vigil-informer";
    }

    @Override
    public long sync(String prefix) throws Exception {
        if (informer != null) {
            informer.close();
        }
        long current = client.kv().get(io.vigil.client.Op.getPrefix(prefix).countOnly()).revision();
        informer = new Informer<>(client, prefix, KeyValue::value, Runnable::run);
        informer.start();
        if (!informer.awaitRevision(current, Duration.ofMinutes(10))) {
            throw new IllegalStateException("the informer did not sync");
        }
        return informer.revision();
    }

    @Override
    public int cached() {
        return informer.list().size();
    }

    @Override
    public boolean replays() {
        return false;
    }

    @Override
    public void watchUntil(String prefix, long fromRevision, int events) {
        throw new UnsupportedOperationException("an informer watches from its own list");
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
        client.close();
    }
}
