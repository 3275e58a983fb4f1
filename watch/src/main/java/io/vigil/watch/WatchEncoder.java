package io.vigil.watch;

import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Writes the hub's responses onto streams: the control responses (created, refused, canceled,
 * compacted, progress), each built as a message, and events responses, put together from shared
 * encoded parts and fragmented as etcd's {@code sendFragments} does for a watcher that asked.
 * It remembers the streams it wrote to, which the hub drains once its lock is released.
 *
 * <p>Lock: the hub lock, for every method; it is the only place the hub enqueues responses, so
 * per stream they leave in the order the hub produced them under that lock. Invariant: a stream
 * written to since the last {@link #takeTouched} is on the touched list exactly once.
 */
final class WatchEncoder {
    /** etcd: the watch_id of a response that is not any one watcher's (a progress answer). */
    private static final long NO_WATCH_ID = -1;
    private static final byte[] FRAGMENT_FIELD = {0x38, 0x01};

    private final LongFunction<ResponseHeader> headers;
    private final WatchHub.Config config;
    private final WatchMetrics metrics;
    private List<WatchStream> touched = new ArrayList<>();
    /** Events sent and merged since the last {@link #takeTouched}, counted into the meters there. */
    private long sent;
    private long merged;
    private long headerRevision = Long.MIN_VALUE;
    private byte[] headerField;

    WatchEncoder(LongFunction<ResponseHeader> headers, WatchHub.Config config, WatchMetrics metrics) {
        this.headers = headers;
        this.config = config;
        this.metrics = metrics;
    }

    // ---- control responses ----

    /** A create answered with a refusal: created and canceled at once, no watch id, as etcd. */
    void refused(WatchStream stream, long head, String cancelReason) {
        send(stream, response(head).setWatchId(NO_WATCH_ID).setCreated(true).setCanceled(true)
                .setCancelReason(cancelReason));
    }

    /** The created response, enqueued before the watcher can receive anything. */
    void created(WatchStream stream, long watchId, long head) {
        send(stream, response(head).setWatchId(watchId).setCreated(true));
    }

    void canceled(WatchStream stream, long watchId, long head) {
        send(stream, response(head).setWatchId(watchId).setCanceled(true));
    }

    /** etcd: a watcher behind the compacted revision gets compact_revision, canceled, then nothing. */
    void compacted(WatchStream stream, long watchId, long compactRevision, long head) {
        send(stream, response(head).setWatchId(watchId).setCompactRevision(compactRevision).setCanceled(true));
    }

    /** The answer to a WatchProgressRequest: no watch id, at the published revision. */
    void progress(WatchStream stream, long published) {
        send(stream, response(published).setWatchId(NO_WATCH_ID));
    }

    /** A progress_notify notice to one watcher, at the published revision. */
    void progressNotice(Watcher w, long published) {
        send(w.stream, response(published).setWatchId(w.id));
    }

    private WatchResponse.Builder response(long revision) {
        return WatchResponse.newBuilder().setHeader(headers.apply(revision));
    }

    private void send(WatchStream stream, WatchResponse.Builder response) {
        stream.enqueue(WatchOut.of(response.build()));
        touch(stream);
    }

    // ---- events ----

    /** The encoded header field at revision, shared by the responses of one revision (cached). */
    byte[] header(long revision) {
        if (revision != headerRevision) {
            headerField = WatchOut.messageField(1, headers.apply(revision));
            headerRevision = revision;
        }
        return headerField;
    }

    /** The encoded header field at revision, for a catch-up chunk (not cached). */
    byte[] chunkHeader(long revision) {
        return WatchOut.messageField(1, headers.apply(revision));
    }

    /**
     * The events at indexes[0, count) as one response, or as fragments if asked. Returns false,
     * sending nothing, when the stream is full: the watcher must then catch up from the log.
     */
    boolean events(Watcher w, byte[] header, EncodedEvents encoded, int[] indexes, int count) {
        long size = header.length + w.idField.length;
        for (int i = 0; i < count; i++) {
            size += encoded.field(indexes[i], w.prevKv).length;
        }
        if (!w.fragment || size < config.maxRequestBytes || count < 2) {
            byte[][] fields = new byte[count][];
            for (int i = 0; i < count; i++) {
                fields[i] = encoded.field(indexes[i], w.prevKv);
            }
            long eventBytes = size - header.length - w.idField.length;
            WatchStream.Enqueued done = w.stream.enqueueEvents(w, header, fields, eventBytes,
                    Math.min(config.mergeBytes, config.maxRequestBytes));
            if (done == WatchStream.Enqueued.FULL) {
                return false;
            }
            if (done == WatchStream.Enqueued.MERGED) {
                merged += count;
            }
        } else if (w.stream.isFull()) {
            return false;
        } else {
            fragments(w, header, encoded, indexes, count);
        }
        w.sentSinceTick = true;
        sent += count;
        touch(w.stream);
        return true;
    }

    /**
     * etcd's sendFragments: each part below the limit unless it holds a single event; every part
     * but the last says fragment=true.
     */
    private void fragments(Watcher w, byte[] header, EncodedEvents encoded, int[] indexes, int count) {
        int next = 0;
        while (next < count) {
            List<byte[]> parts = new ArrayList<>();
            parts.add(header);
            parts.add(w.idField);
            parts.add(FRAGMENT_FIELD);
            long partSize = header.length + w.idField.length + FRAGMENT_FIELD.length;
            int inPart = 0;
            while (next < count) {
                byte[] f = encoded.field(indexes[next], w.prevKv);
                if (inPart > 0 && partSize + f.length >= config.maxRequestBytes) {
                    break;
                }
                parts.add(f);
                partSize += f.length;
                inPart++;
                next++;
            }
            if (next == count) {
                parts.remove(2);
            }
            w.stream.enqueue(new WatchOut(parts.toArray(new byte[0][])));
        }
    }

    // ---- streams to drain ----

    private void touch(WatchStream stream) {
        if (stream.touch()) {
            touched.add(stream);
        }
    }

    /**
     * The streams written to since the last call, to drain once the lock is released; each has
     * told the shared buffer budget what it holds now, and the meters count what was sent.
     */
    List<WatchStream> takeTouched() {
        List<WatchStream> out = touched;
        for (WatchStream s : out) {
            s.untouch();
            s.reportToBudget();
        }
        touched = new ArrayList<>();
        if (sent > 0) {
            metrics.eventsSent.increment(sent);
            metrics.eventsMerged.increment(merged);
            sent = 0;
            merged = 0;
        }
        return out;
    }
}
