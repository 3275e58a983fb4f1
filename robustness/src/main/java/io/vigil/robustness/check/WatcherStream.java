package io.vigil.robustness.check;

import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.history.WatchRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One watcher's records, split into segments: a segment starts at a create record and holds the
 * responses received until the next create (a resume after a broken stream). Records are taken in
 * the order of their nanos, ties in recorded order.
 */
record WatcherStream(int watcher, List<Segment> segments) {

    /** One watch stream of the watcher: its create request and the responses it received. */
    record Segment(String member, long createNanos, WatchCreateRequest create, List<Received> responses, String error) {
        /** The watch ended because the server canceled it (compacted when compactRevision > 0). */
        Received cancel() {
            for (Received r : responses) {
                if (r.response().getCanceled() || r.response().getCompactRevision() > 0) {
                    return r;
                }
            }
            return null;
        }
    }

    record Received(long nanos, WatchResponse response) {
        boolean isProgressNotification() {
            WatchResponse r = response;
            return r.getEventsCount() == 0 && !r.getCreated() && !r.getCanceled() && r.getCompactRevision() == 0;
        }
    }

    static List<WatcherStream> parse(List<WatchRecord> records) {
        Map<Integer, List<WatchRecord>> byWatcher = new TreeMap<>();
        for (WatchRecord r : records) {
            byWatcher.computeIfAbsent(r.getWatcher(), w -> new ArrayList<>()).add(r);
        }
        List<WatcherStream> streams = new ArrayList<>();
        for (var e : byWatcher.entrySet()) {
            List<WatchRecord> sorted = new ArrayList<>(e.getValue());
            sorted.sort(Comparator.comparingLong(WatchRecord::getNanos));
            List<Segment> segments = new ArrayList<>();
            String member = null;
            long createNanos = 0;
            WatchCreateRequest create = null;
            List<Received> responses = new ArrayList<>();
            String error = null;
            for (WatchRecord r : sorted) {
                switch (r.getKindCase()) {
                    case CREATE -> {
                        if (create != null) {
                            segments.add(new Segment(member, createNanos, create, responses, error));
                        }
                        member = r.getMember();
                        createNanos = r.getNanos();
                        create = r.getCreate();
                        responses = new ArrayList<>();
                        error = null;
                    }
                    case RESPONSE -> {
                        if (create == null) { // responses before any create: judge them as a watch of everything from "now"
                            member = r.getMember();
                            create = WatchCreateRequest.newBuilder().setKey(Keys.ALL_FROM).setRangeEnd(Keys.ALL_FROM).build();
                        }
                        responses.add(new Received(r.getNanos(), r.getResponse()));
                    }
                    case ERROR -> error = r.getError();
                    default -> {
                    }
                }
            }
            if (create != null) {
                segments.add(new Segment(member, createNanos, create, responses, error));
            }
            streams.add(new WatcherStream(e.getKey(), segments));
        }
        return streams;
    }
}
