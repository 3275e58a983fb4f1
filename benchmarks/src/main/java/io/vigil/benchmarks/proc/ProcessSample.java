package io.vigil.benchmarks.proc;

/** CPU ticks used so far and resident memory now, summed over a process and its descendants. */
public record ProcessSample(long cpuTicks, long rssBytes, int processes) {}
