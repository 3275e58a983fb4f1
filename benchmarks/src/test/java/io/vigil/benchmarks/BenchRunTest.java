package io.vigil.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vigil.benchmarks.measure.Side;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchRunTest {
  @Test
  void sidesInterleaveAndSwapWhoGoesFirst() {
    List<Side> given = List.of(Side.VIGIL, Side.ETCD);
    assertEquals(given, BenchRun.sideOrder(given, 1));
    assertEquals(List.of(Side.ETCD, Side.VIGIL), BenchRun.sideOrder(given, 2));
    assertEquals(given, BenchRun.sideOrder(given, 3));
    assertEquals(List.of(Side.ETCD), BenchRun.sideOrder(List.of(Side.ETCD), 2));
  }
}
