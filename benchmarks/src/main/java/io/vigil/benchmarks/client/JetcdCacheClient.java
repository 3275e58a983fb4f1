package io.vigil.benchmarks.client;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@link CacheClient} on jetcd: the same list, then the same watch. */
final class JetcdCacheClient implements CacheClient {
    private final Client client;
    private Map<String, String> cache = new HashMap<>();

    JetcdCacheClient(String endpoint) {
        client = Client.builder().endpoints("http://" + endpoint).maxInboundMessageSize(Integer.MAX_VALUE).build();
    }

    @Override
    public String name() {
        return "jetcd";
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    public long sync(String prefix) throws Exception {
        GetResponse list = client.getKVClient().get(bytes(prefix), GetOption.builder().isPrefix(true).build())
                .get(10, TimeUnit.MINUTES);
        Map<String, String> fresh = new HashMap<>(list.getKvs().size() * 2);
        for (KeyValue kv : list.getKvs()) {
            fresh.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getValue().toString(StandardCharsets.UTF_8));
        }
        cache = fresh;
        return list.getHeader().getRevision();
    }

    @Override
    public int cached() {
        return cache.size();
    }

    @Override
    public void watchUntil(String prefix, long fromRevision, int events) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(events);
        Map<String, String> c = cache;
        WatchOption option = WatchOption.builder().isPrefix(true).withRevision(fromRevision).build();
        // jetcd calls the listener on its own executor, one response at a time
        try (var w = client.getWatchClient().watch(bytes(prefix), option, response -> {
            synchronized (c) {
                for (WatchEvent e : response.getEvents()) {
                    String key = e.getKeyValue().getKey().toString(StandardCharsets.UTF_8);
                    if (e.getEventType() == WatchEvent.EventType.PUT) {
                        c.put(key, e.getKeyValue().getValue().toString(StandardCharsets.UTF_8));
                    } else {
                        c.remove(key);
                    }
                    done.countDown();
                }
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
