package io.vigil.robustness.check;

import com.google.protobuf.ByteString;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.List;

/** A store state a request is applied to. */
interface StateView {
    /** The key, or null when absent. */
    KeyValue get(ByteString key);

    /** The keys in [key, rangeEnd) (etcd's range conventions), in key order. */
    List<KeyValue> range(ByteString key, ByteString rangeEnd);
}
