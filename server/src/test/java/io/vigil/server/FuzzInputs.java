package io.vigil.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.vigil.proto.etcdserverpb.Compare;
import io.vigil.proto.etcdserverpb.CompactionRequest;
import io.vigil.proto.etcdserverpb.DeleteRangeRequest;
import io.vigil.proto.etcdserverpb.HashKVRequest;
import io.vigil.proto.etcdserverpb.LeaseGrantRequest;
import io.vigil.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.vigil.proto.etcdserverpb.LeaseRevokeRequest;
import io.vigil.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.vigil.proto.etcdserverpb.MemberPromoteRequest;
import io.vigil.proto.etcdserverpb.MemberRemoveRequest;
import io.vigil.proto.etcdserverpb.MemberUpdateRequest;
import io.vigil.proto.etcdserverpb.MoveLeaderRequest;
import io.vigil.proto.etcdserverpb.PutRequest;
import io.vigil.proto.etcdserverpb.RangeRequest;
import io.vigil.proto.etcdserverpb.RequestOp;
import io.vigil.proto.etcdserverpb.TxnRequest;
import io.vigil.proto.etcdserverpb.WatchCancelRequest;
import io.vigil.proto.etcdserverpb.WatchCreateRequest;
import io.vigil.proto.etcdserverpb.WatchRequest;
import io.vigil.proto.v3electionpb.CampaignRequest;
import io.vigil.proto.v3electionpb.LeaderKey;
import io.vigil.proto.v3electionpb.LeaderRequest;
import io.vigil.proto.v3electionpb.ProclaimRequest;
import io.vigil.proto.v3electionpb.ResignRequest;
import io.vigil.proto.v3lockpb.LockRequest;
import io.vigil.proto.v3lockpb.UnlockRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * The fuzzer's requests, all drawn from one seeded {@link Random}: raw random bytes, random
 * messages of a method's request type built from its descriptor (every field, nested messages,
 * unknown enum numbers, extreme numbers, inverted ranges, values beyond the request limit), those
 * messages mutated at the byte level (flipped, truncated, extended, spliced), and requests aimed
 * at known edges (negative limits and revisions, unknown lease, watch and member ids, deep txns).
 */
final class FuzzInputs {
    private static final long[] LONGS = {0, 1, -1, 2, 7, 100, 1000, Integer.MAX_VALUE, Integer.MIN_VALUE,
            Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, 0x7fff_ffff_ffffL, -1000};
    private static final String[] STRINGS = {"", "http://127.0.0.1:1", "http://127.0.0.1:99999", "http://[::1]:0",
            "unix:///tmp/x", "%zz", "http://", "://", "m1", "\u0000", "http://127.0.0.1:2380,http://x"};

    private final Random rnd;
    /** Beyond the server's request limit and its gRPC message limit. */
    private final int hugeBytes;

    FuzzInputs(Random rnd, int hugeBytes) {
        this.rnd = rnd;
        this.hugeBytes = hugeBytes;
    }

    /** The request prototype of a generated method. */
    static Message prototype(MethodDescriptor<?, ?> m) {
        return (Message) ((MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller()).getMessagePrototype();
    }

    /** One request for method {@code m}, as bytes on the wire. */
    byte[] next(MethodDescriptor<?, ?> m) {
        Descriptor d = prototype(m).getDescriptorForType();
        return switch (rnd.nextInt(6)) {
            case 0 -> randomBytes(rnd.nextInt(8) == 0 ? rnd.nextInt(4096) : rnd.nextInt(64));
            case 1, 2 -> randomMessage(d, 0).toByteArray();
            case 3 -> mutate(randomMessage(d, 0).toByteArray());
            default -> {
                List<Supplier<Message>> aimed = targeted(m.getFullMethodName());
                Message msg = aimed.isEmpty() ? randomMessage(d, 0) : aimed.get(rnd.nextInt(aimed.size())).get();
                yield rnd.nextInt(4) == 0 ? mutate(msg.toByteArray()) : msg.toByteArray();
            }
        };
    }

    byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    Message randomMessage(Descriptor d, int depth) {
        DynamicMessage.Builder b = DynamicMessage.newBuilder(d);
        for (FieldDescriptor f : d.getFields()) {
            if (rnd.nextInt(3) == 0) {
                continue;
            }
            if (f.getContainingOneof() != null && b.hasOneof(f.getContainingOneof())) {
                continue;
            }
            if (f.isRepeated()) {
                int n = rnd.nextInt(8) == 0 ? rnd.nextInt(200) : rnd.nextInt(4);
                for (int i = 0; i < n; i++) {
                    Object v = value(f, depth);
                    if (v != null) {
                        b.addRepeatedField(f, v);
                    }
                }
            } else {
                Object v = value(f, depth);
                if (v != null) {
                    b.setField(f, v);
                }
            }
        }
        return b.build();
    }

    private Object value(FieldDescriptor f, int depth) {
        return switch (f.getJavaType()) {
            case INT -> (int) longValue();
            case LONG -> longValue();
            case BOOLEAN -> rnd.nextBoolean();
            case FLOAT -> rnd.nextFloat();
            case DOUBLE -> rnd.nextDouble();
            case STRING -> rnd.nextInt(4) == 0 ? new String(randomBytes(rnd.nextInt(40)), StandardCharsets.ISO_8859_1)
                    : STRINGS[rnd.nextInt(STRINGS.length)];
            case BYTE_STRING -> bytesValue();
            case ENUM -> enumValue(f.getEnumType());
            case MESSAGE -> depth < 6 ? randomMessage(f.getMessageType(), depth + 1) : null;
        };
    }

    private long longValue() {
        return rnd.nextInt(3) == 0 ? rnd.nextLong() : LONGS[rnd.nextInt(LONGS.length)];
    }

    private ByteString bytesValue() {
        return switch (rnd.nextInt(12)) {
            case 0 -> ByteString.EMPTY;
            case 1 -> ByteString.copyFrom(new byte[] {0});
            case 2 -> ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff});
            case 3 -> ByteString.copyFrom(randomBytes(rnd.nextInt(32)));
            case 4 -> rnd.nextInt(40) == 0 ? ByteString.copyFrom(new byte[hugeBytes]) : key("fuzz0");
            default -> key("fuzz/" + (char) ('a' + rnd.nextInt(6)));
        };
    }

    private Object enumValue(EnumDescriptor e) {
        if (rnd.nextInt(4) == 0) {
            return e.findValueByNumberCreatingIfUnknown(rnd.nextInt(3) == 0 ? -1 : 1000 + rnd.nextInt(10));
        }
        return e.getValues().get(rnd.nextInt(e.getValues().size()));
    }

    /** Bytes flipped, a tail cut or added, a slice repeated, or a varint of any length inserted. */
    byte[] mutate(byte[] b) {
        byte[] out = b.clone();
        switch (rnd.nextInt(5)) {
            case 0 -> {
                for (int i = 0; i < 1 + rnd.nextInt(4) && out.length > 0; i++) {
                    out[rnd.nextInt(out.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> out = java.util.Arrays.copyOf(out, out.length == 0 ? 0 : rnd.nextInt(out.length));
            case 2 -> {
                byte[] tail = randomBytes(1 + rnd.nextInt(16));
                out = java.util.Arrays.copyOf(out, out.length + tail.length);
                System.arraycopy(tail, 0, out, b.length, tail.length);
            }
            case 3 -> {
                if (out.length > 0) {
                    int from = rnd.nextInt(out.length);
                    int len = 1 + rnd.nextInt(out.length - from);
                    byte[] twice = new byte[out.length + len];
                    System.arraycopy(out, 0, twice, 0, from + len);
                    System.arraycopy(out, from, twice, from + len, out.length - from);
                    out = twice;
                }
            }
            default -> {
                // a field tag and a length claiming more than there is
                int at = out.length == 0 ? 0 : rnd.nextInt(out.length);
                byte[] varint = {(byte) ((1 + rnd.nextInt(15)) << 3 | 2), (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f};
                byte[] grown = new byte[out.length + varint.length];
                System.arraycopy(out, 0, grown, 0, at);
                System.arraycopy(varint, 0, grown, at, varint.length);
                System.arraycopy(out, at, grown, at + varint.length, out.length - at);
                out = grown;
            }
        }
        return out;
    }

    private static ByteString key(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private long unknownId() {
        return 0x1000_0000_0000L + rnd.nextInt(1 << 20);
    }

    /** Requests aimed at known edges of {@code method}. */
    private List<Supplier<Message>> targeted(String method) {
        ByteString huge = ByteString.copyFrom(new byte[hugeBytes]);
        Map<String, List<Supplier<Message>>> all = Map.ofEntries(
                Map.entry("etcdserverpb.KV/Range", List.of(
                        () -> RangeRequest.newBuilder().setKey(key("fuzz/z")).setRangeEnd(key("fuzz/a")).build(),
                        () -> RangeRequest.newBuilder().setKey(key("fuzz/")).setRangeEnd(key("fuzz0")).setLimit(-1).build(),
                        () -> RangeRequest.newBuilder().setKey(key("fuzz/a")).setRevision(-5).build(),
                        () -> RangeRequest.newBuilder().setKey(key("fuzz/a")).setRevision(Long.MAX_VALUE).build(),
                        () -> RangeRequest.newBuilder().setKey(key("\0")).setRangeEnd(key("\0")).setSortTargetValue(99)
                                .setSortOrderValue(-3).setMinModRevision(-1).setMaxCreateRevision(-7).build(),
                        () -> RangeRequest.newBuilder().setKey(huge).build())),
                Map.entry("etcdserverpb.KV/Put", List.of(
                        () -> PutRequest.newBuilder().setKey(key("fuzz/a")).setValue(huge).build(),
                        () -> PutRequest.newBuilder().setKey(huge).build(),
                        () -> PutRequest.newBuilder().setKey(key("fuzz/a")).setLease(unknownId()).build(),
                        () -> PutRequest.newBuilder().setKey(key("fuzz/a")).setLease(-1).build(),
                        () -> PutRequest.newBuilder().setKey(ByteString.EMPTY).setValue(key("v")).build(),
                        () -> PutRequest.newBuilder().setKey(key("fuzz/a")).setIgnoreValue(true).setValue(key("x")).build(),
                        () -> PutRequest.newBuilder().setKey(key("fuzz/nope" + rnd.nextInt(1000))).setIgnoreValue(true).build())),
                Map.entry("etcdserverpb.KV/DeleteRange", List.of(
                        () -> DeleteRangeRequest.newBuilder().setKey(key("fuzz/z")).setRangeEnd(key("fuzz/a")).build(),
                        () -> DeleteRangeRequest.newBuilder().build())),
                Map.entry("etcdserverpb.KV/Txn", List.of(
                        this::manyOps, () -> nested(1 + rnd.nextInt(90)),
                        () -> TxnRequest.newBuilder().addCompare(Compare.newBuilder().setKey(key("fuzz/z")).setRangeEnd(key("fuzz/a"))
                                .setTargetValue(77).setResultValue(-2)).build(),
                        () -> TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(
                                PutRequest.newBuilder().setKey(key("fuzz/a")).setLease(unknownId()))).build(),
                        () -> TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(
                                PutRequest.newBuilder().setKey(key("fuzz/a")))).addSuccess(RequestOp.newBuilder().setRequestDeleteRange(
                                DeleteRangeRequest.newBuilder().setKey(key("fuzz/")).setRangeEnd(key("fuzz0")))).build())),
                Map.entry("etcdserverpb.KV/Compact", List.of(
                        () -> CompactionRequest.newBuilder().setRevision(-1).build(),
                        () -> CompactionRequest.newBuilder().setRevision(Long.MAX_VALUE).setPhysical(true).build())),
                Map.entry("etcdserverpb.Lease/LeaseGrant", List.of(
                        () -> LeaseGrantRequest.newBuilder().setTTL(-1).build(),
                        () -> LeaseGrantRequest.newBuilder().setTTL(Long.MAX_VALUE).build(),
                        () -> LeaseGrantRequest.newBuilder().setTTL(1000).setID(-1).build())),
                Map.entry("etcdserverpb.Lease/LeaseRevoke", List.of(
                        () -> LeaseRevokeRequest.newBuilder().setID(unknownId()).build(),
                        () -> LeaseRevokeRequest.newBuilder().setID(-1).build())),
                Map.entry("etcdserverpb.Lease/LeaseKeepAlive", List.of(
                        () -> LeaseKeepAliveRequest.newBuilder().setID(unknownId()).build())),
                Map.entry("etcdserverpb.Lease/LeaseTimeToLive", List.of(
                        () -> LeaseTimeToLiveRequest.newBuilder().setID(unknownId()).setKeys(true).build())),
                Map.entry("etcdserverpb.Watch/Watch", List.of(
                        () -> WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(key("fuzz/z"))
                                .setRangeEnd(key("fuzz/a"))).build(),
                        () -> WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(key("fuzz/a"))
                                .setStartRevision(-1).addFiltersValue(9).setWatchId(-5)).build(),
                        () -> WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(key("fuzz/a"))
                                .setStartRevision(Long.MAX_VALUE).setFragment(true).setPrevKv(true)).build(),
                        () -> WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(unknownId())).build())),
                Map.entry("etcdserverpb.Cluster/MemberRemove", List.of(
                        () -> MemberRemoveRequest.newBuilder().setID(unknownId()).build())),
                Map.entry("etcdserverpb.Cluster/MemberUpdate", List.of(
                        () -> MemberUpdateRequest.newBuilder().setID(unknownId()).addPeerURLs("http://127.0.0.1:1").build(),
                        () -> MemberUpdateRequest.newBuilder().setID(unknownId()).addPeerURLs("%zz").build())),
                Map.entry("etcdserverpb.Cluster/MemberPromote", List.of(
                        () -> MemberPromoteRequest.newBuilder().setID(unknownId()).build())),
                Map.entry("etcdserverpb.Maintenance/MoveLeader", List.of(
                        () -> MoveLeaderRequest.newBuilder().setTargetID(unknownId()).build())),
                Map.entry("etcdserverpb.Maintenance/HashKV", List.of(
                        () -> HashKVRequest.newBuilder().setRevision(-1).build(),
                        () -> HashKVRequest.newBuilder().setRevision(Long.MAX_VALUE).build())),
                Map.entry("v3lockpb.Lock/Lock", List.of(
                        () -> LockRequest.newBuilder().setName(key("fuzz-lock")).setLease(unknownId()).build(),
                        () -> LockRequest.newBuilder().setLease(-1).build())),
                Map.entry("v3lockpb.Lock/Unlock", List.of(
                        () -> UnlockRequest.newBuilder().setKey(key("fuzz-lock/" + unknownId())).build(),
                        () -> UnlockRequest.newBuilder().build())),
                Map.entry("v3electionpb.Election/Campaign", List.of(
                        () -> CampaignRequest.newBuilder().setName(key("fuzz-e")).setLease(unknownId()).build(),
                        () -> CampaignRequest.newBuilder().setLease(-1).build())),
                Map.entry("v3electionpb.Election/Proclaim", List.of(
                        () -> ProclaimRequest.newBuilder().setLeader(leader()).setValue(key("v")).build(),
                        () -> ProclaimRequest.newBuilder().build())),
                Map.entry("v3electionpb.Election/Resign", List.of(
                        () -> ResignRequest.newBuilder().setLeader(leader()).build(),
                        () -> ResignRequest.newBuilder().build())),
                Map.entry("v3electionpb.Election/Leader", List.of(
                        () -> LeaderRequest.newBuilder().setName(key("fuzz-none-" + rnd.nextInt(100))).build())),
                Map.entry("v3electionpb.Election/Observe", List.of(
                        () -> LeaderRequest.newBuilder().setName(key("fuzz-none-" + rnd.nextInt(100))).build(),
                        () -> LeaderRequest.newBuilder().build())));
        return all.getOrDefault(method, List.of());
    }

    private LeaderKey leader() {
        return LeaderKey.newBuilder().setName(key("fuzz-e")).setKey(key("fuzz-e/" + unknownId()))
                .setRev(longValue()).setLease(unknownId()).build();
    }

    private Message manyOps() {
        TxnRequest.Builder t = TxnRequest.newBuilder();
        for (int i = 0; i < 129 + rnd.nextInt(100); i++) {
            t.addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key("fuzz/" + i))));
        }
        return t.build();
    }

    /** A txn holding a txn holding a txn..., {@code depth} deep. */
    private static Message nested(int depth) {
        TxnRequest t = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder()
                .setRequestPut(PutRequest.newBuilder().setKey(key("fuzz/deep")))).build();
        for (int i = 0; i < depth; i++) {
            t = TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestTxn(t)).build();
        }
        return t;
    }
}
