#!/usr/bin/env bash
# Runs the deterministic Raft simulation (consensus module) over many seeds.
#
#   scripts/raft-sim.sh [count] [first-seed] [chaos-ticks]
#   scripts/raft-sim.sh 20000            # seeds 1..20000, 1500 chaos ticks each
#   scripts/raft-sim.sh 5000 100000 4000 # seeds 100000..104999, longer runs
#
# A failing seed is printed with the command that replays it alone:
#   ./mvnw -o -q -pl consensus test -Dtest=RaftSimulationTest#replay -Dvigil.raft.sim.seed=N
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-10000}"
first="${2:-1}"
ticks="${3:-1500}"
exec ./mvnw -o -q -pl consensus test \
  -Dtest='RaftSimulationTest#seededSimulations' \
  -Dsurefire.failIfNoSpecifiedTests=false \
  -Dvigil.raft.sim.seeds="$count" \
  -Dvigil.raft.sim.firstSeed="$first" \
  -Dvigil.raft.sim.ticks="$ticks"
