package io.vigil.benchmarks.scenario;

import io.vigil.benchmarks.measure.Measure;
import io.vigil.benchmarks.measure.MeasurementWindow;
import io.vigil.benchmarks.server.EtcdConnection;
import java.util.List;

/**
 * One workload, instantiated once per side so that both sides get identical keys and sizes.
 * Lifecycle: {@link #prepare} once, {@link #runRound} once per round (rounds of the two sides
 * interleave), {@link #finish} once. Only the time inside the round's window is measured.
 */
public interface Scenario {
  String name();

  /** The parameters that shape the load, for the report, e.g. "64 clients, 256 B values". */
  String describe();

  /** Pre-fills data the rounds need. Not measured. */
  default void prepare(EtcdConnection server) throws Exception {}

  /**
   * Warms up, opens the window, drives load until it ends, closes it, and returns what it
   * measured, the headline measure first. Every loop in it is bounded in time and count.
   */
  List<Measure> runRound(EtcdConnection server, MeasurementWindow window) throws Exception;

  /** Releases what {@link #prepare} created on the server (e.g. leases). */
  default void finish(EtcdConnection server) throws Exception {}
}
