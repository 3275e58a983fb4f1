package io.vigil.revlog;

import io.vigil.proto.mvccpb.Event;
import java.util.List;

/**
 * A stretch of the revision log as {@link RevLog#readHistory} read it from one snapshot.
 *
 * <p>When {@code compacted} is false: {@code events} are every event of revisions
 * [fromRevision, throughRevision], in revision then sub-revision order. When it is true the start
 * revision was below {@code compactRevision}, history there is gone, and nothing was read.
 */
public record History(boolean compacted, long compactRevision, long throughRevision, List<Event> events) {
}
