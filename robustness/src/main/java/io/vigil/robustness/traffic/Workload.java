package io.vigil.robustness.traffic;

/** One client's choice of requests: each step makes one or a few calls through its {@link Client}. */
interface Workload {
    void step();
}
