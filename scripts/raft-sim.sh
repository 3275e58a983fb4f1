#!/usr/bin/env bash
# Runs the deterministic Raft simulation (consensus module) over many seeds, in two tiers:
# many short runs (breadth) then a few long ones (deep multi-term histories). CI runs the same
# tests with 400 short seeds x 600 ticks and 10 long seeds x 20000 ticks.
#
#   scripts/raft-sim.sh [count] [first-seed] [chaos-ticks] [long-count] [long-ticks]
#   scripts/raft-sim.sh                        # 10000 x 1500 ticks, then 200 x 50000 ticks
#   scripts/raft-sim.sh 5000 100000 4000 0     # seeds 100000..104999 at 4000 ticks, no long tier
#   RAFT_SIM_MUTATION=VOTE_NOT_PERSISTED scripts/raft-sim.sh 200 1 600 0   # expect failures
#
# Long seeds start at RAFT_SIM_LONG_FIRST (default 2000001, apart from CI's 1000001..).
# A failing seed is printed with the command that replays it alone, every knob included:
#   ./mvnw -q -B -pl consensus -am test -Dtest=RaftSimulationTest#replay \
#     -Dsurefire.failIfNoSpecifiedTests=false -Dvigil.raft.sim.seed=N -Dvigil.raft.sim.ticks=M
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-10000}"
first="${2:-1}"
ticks="${3:-1500}"
long_count="${4:-200}"
long_ticks="${5:-50000}"
long_first="${RAFT_SIM_LONG_FIRST:-2000001}"
mutation="${RAFT_SIM_MUTATION:-}"
tests='RaftSimulationTest#seededSimulations'
if [ "$long_count" -gt 0 ]; then
  tests="$tests+longSimulations"
fi
extra=()
if [ -n "$mutation" ]; then
  extra+=("-Dvigil.raft.mutation=$mutation")
fi
echo "raft-sim: short seeds $first..$((first + count - 1)) x $ticks ticks;" \
  "long seeds $long_first..$((long_first + long_count - 1)) x $long_ticks ticks" \
  "${mutation:+; mutation $mutation}" >&2
exec ./mvnw -q -B -pl consensus -am test \
  -Dtest="$tests" \
  -Dsurefire.failIfNoSpecifiedTests=false \
  -Dvigil.raft.sim.seeds="$count" \
  -Dvigil.raft.sim.firstSeed="$first" \
  -Dvigil.raft.sim.ticks="$ticks" \
  -Dvigil.raft.sim.longSeeds="$long_count" \
  -Dvigil.raft.sim.longFirstSeed="$long_first" \
  -Dvigil.raft.sim.longTicks="$long_ticks" \
  "${extra[@]}"
