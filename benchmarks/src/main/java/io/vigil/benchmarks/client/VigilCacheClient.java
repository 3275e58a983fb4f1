package io.vigil.benchmarks.client;

import io.vigil.client.KeyValue;
import io.vigil.client.Op;
import io.vigil.client.VigilClient;
import io.vigil.client.Watch;
import io.vigil.client.WatchEvent;
import io.vigil.client.WatchListener;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@link CacheClient} on Vigil's client: a list, then a resuming watch. */
final class VigilCacheClient implements CacheClient {
    private final VigilClient client;
    private Map<String, String> cache = new HashMap<>();

    VigilCacheClient(String endpoint) {
        client = VigilClient.builder().endpoints(endpoint).build();
    }

    @Override
    public String name() {
        return "vigil-client";
    }

    @Override
    public long sync(String prefix) {
        var list = client.kv().getPrefix(prefix);
        Map<String, String> fresh = new HashMap<>(list.kvs().size() * 2);
        for (KeyValue kv : list.kvs()) {
            fresh.put(kv.key(), kv.value());
        }
        cache = fresh;
        return list.revision();
    }

    @Override
    public int cached() {
        return cache.size();
    }

    @Override
    public void watchUntil(String prefix, long fromRevision, int events) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(events);
        Map<String, String> c = cache;
        try (Watch w = client.watches().watch(Op.getPrefix(prefix), fromRevision, new WatchListener() {
            @Override
            public void onEvents(long revision, List<WatchEvent> told) {
                for (WatchEvent e : told) {
                    if (e.type() == WatchEvent.Type.PUT) {
                        c.put(e.kv().key(), e.kv().value());
                    } else {
                        c.remove(e.kv().key());
                    }
                    done.countDown();
                }
            }

            @Override
            public void onCompacted(long compactRevision) {
                throw new IllegalStateException("compacted at " + compactRevision);
            }
        })) {
            if (!done.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the watch stalled with " + done.getCount() + " events missing");
            }
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
