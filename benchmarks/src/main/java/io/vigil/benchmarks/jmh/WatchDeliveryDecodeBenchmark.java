package io.vigil.benchmarks.jmh;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.vigil.benchmarks.scenario.Payload;
import io.vigil.proto.etcdserverpb.ResponseHeader;
import io.vigil.proto.etcdserverpb.WatchResponse;
import io.vigil.proto.mvccpb.Event;
import io.vigil.proto.mvccpb.KeyValue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Recorder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The load generator's own cost per watch event: parse a serialized WatchResponse and record
 * each event's put-to-delivery latency, as the watch-fanout scenario does on the transport
 * thread. Its inverse bounds the events/s one client core can count; when a fan-out run comes
 * near that bound, the run measures the client, not the server. (Micro-benchmarks of Vigil's
 * own hot paths belong to revlog, watch and WAL and come with those modules.)
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WatchDeliveryDecodeBenchmark {
  @Param({"1", "16", "128"})
  int eventsPerResponse;

  @Param({"256"})
  int valueSizeBytes;

  private byte[] serialized;
  private final Recorder recorder = new Recorder(TimeUnit.HOURS.toNanos(1), 3);

  @Setup
  public void encode() {
    WatchResponse.Builder response = WatchResponse.newBuilder().setWatchId(7)
        .setHeader(ResponseHeader.newBuilder().setRevision(1_000_000).setClusterId(1).setMemberId(2).setRaftTerm(3));
    ByteString value = Payload.stamped(valueSizeBytes, System.nanoTime(), true);
    for (int i = 0; i < eventsPerResponse; i++) {
      response.addEvents(Event.newBuilder().setKv(KeyValue.newBuilder()
          .setKey(ByteString.copyFromUtf8("vb/abcdef/wf/00000000000000" + (i % 10)))
          .setCreateRevision(5).setModRevision(1_000_000).setVersion(42).setValue(value)));
    }
    serialized = response.build().toByteArray();
  }

  /** Average time per response; divide by {@code eventsPerResponse} for the cost per event. */
  @Benchmark
  public long decodeAndRecord() throws InvalidProtocolBufferException {
    WatchResponse response = WatchResponse.parseFrom(serialized);
    long now = System.nanoTime();
    long counted = 0;
    for (Event event : response.getEventsList()) {
      long sentNs = Payload.measuredSentNs(event.getKv().getValue());
      if (sentNs >= 0) {
        recorder.recordValue(Math.min(Math.max(0, now - sentNs), TimeUnit.HOURS.toNanos(1)));
        counted++;
      }
    }
    return counted;
  }
}
