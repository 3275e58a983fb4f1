package io.vigil.client;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;

/**
 * One condition of a transaction, on a key's value, version, create or mod revision, or lease:
 *
 * <pre>{@code
 * Compare.version("lock").equalTo(0)            // the key does not exist
 * Compare.modRevision("config").equalTo(seen)   // nobody changed it since I read it
 * Compare.value("state").notEqualTo("done")
 * }</pre>
 */
public final class Compare {
    private final io.vigil.proto.etcdserverpb.Compare compare;

    private Compare(io.vigil.proto.etcdserverpb.Compare compare) {
        this.compare = compare;
    }

    /** What a condition looks at; completed by the relation. */
    public static final class Target {
        private final io.vigil.proto.etcdserverpb.Compare.Builder base;

        private Target(String key, io.vigil.proto.etcdserverpb.Compare.CompareTarget target) {
            this.base = io.vigil.proto.etcdserverpb.Compare.newBuilder().setKey(Op.bytes(key)).setTarget(target);
        }

        public Compare equalTo(long operand) {
            return of(io.vigil.proto.etcdserverpb.Compare.CompareResult.EQUAL, operand);
        }

        public Compare notEqualTo(long operand) {
            return of(io.vigil.proto.etcdserverpb.Compare.CompareResult.NOT_EQUAL, operand);
        }

        public Compare greaterThan(long operand) {
            return of(io.vigil.proto.etcdserverpb.Compare.CompareResult.GREATER, operand);
        }

        public Compare lessThan(long operand) {
            return of(io.vigil.proto.etcdserverpb.Compare.CompareResult.LESS, operand);
        }

        public Compare equalTo(String value) {
            return of(io.vigil.proto.etcdserverpb.Compare.CompareResult.EQUAL, value);
        }

        public Compare notEqualTo(String value) {
            return of(io.vigil.proto.etcdserverpb.Compare.CompareResult.NOT_EQUAL, value);
        }

        public Compare greaterThan(String value) {
            return of(io.vigil.proto.etcdserverpb.Compare.CompareResult.GREATER, value);
        }

        public Compare lessThan(String value) {
            return of(io.vigil.proto.etcdserverpb.Compare.CompareResult.LESS, value);
        }

        private Compare of(io.vigil.proto.etcdserverpb.Compare.CompareResult result, long operand) {
            io.vigil.proto.etcdserverpb.Compare.Builder b = base.clone().setResult(result);
            switch (b.getTarget()) {
                case VERSION -> b.setVersion(operand);
                case CREATE -> b.setCreateRevision(operand);
                case MOD -> b.setModRevision(operand);
                case LEASE -> b.setLease(operand);
                default -> throw new IllegalArgumentException("a value is compared with a string");
            }
            return new Compare(b.build());
        }

        private Compare of(io.vigil.proto.etcdserverpb.Compare.CompareResult result, String value) {
            if (base.getTarget() != io.vigil.proto.etcdserverpb.Compare.CompareTarget.VALUE) {
                throw new IllegalArgumentException(base.getTarget() + " is compared with a number");
            }
            return new Compare(base.clone().setResult(result)
                    .setValue(ByteString.copyFrom(value.getBytes(StandardCharsets.UTF_8))).build());
        }
    }

    public static Target value(String key) {
        return new Target(key, io.vigil.proto.etcdserverpb.Compare.CompareTarget.VALUE);
    }

    /** The key's version: 0 when it does not exist. */
    public static Target version(String key) {
        return new Target(key, io.vigil.proto.etcdserverpb.Compare.CompareTarget.VERSION);
    }

    public static Target createRevision(String key) {
        return new Target(key, io.vigil.proto.etcdserverpb.Compare.CompareTarget.CREATE);
    }

    public static Target modRevision(String key) {
        return new Target(key, io.vigil.proto.etcdserverpb.Compare.CompareTarget.MOD);
    }

    public static Target lease(String key) {
        return new Target(key, io.vigil.proto.etcdserverpb.Compare.CompareTarget.LEASE);
    }

    io.vigil.proto.etcdserverpb.Compare proto() {
        return compare;
    }
}
