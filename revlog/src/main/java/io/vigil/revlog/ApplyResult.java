package io.vigil.revlog;

import com.google.protobuf.Message;
import io.vigil.proto.mvccpb.Event;
import java.util.List;

/**
 * What applying one {@link LogEntry} did. Exactly one of {@code response} and {@code error} is set.
 * {@code revision} is the store revision after the entry; {@code events} are the changes it made,
 * in sub-revision order (empty when it made none), for the watch hub.
 */
public record ApplyResult(long index, long revision, Message response, RevLogException error, List<Event> events) {
    static ApplyResult ok(long index, long revision, Message response, List<Event> events) {
        return new ApplyResult(index, revision, response, null, List.copyOf(events));
    }

    static ApplyResult failed(long index, long revision, RevLogException error) {
        return new ApplyResult(index, revision, null, error, List.of());
    }
}
