#!/usr/bin/env bash
# Times the issue-18 speed case: `strata simulate --compat splitwisesim` on BLOOM-176B, Baseline-H100 x 40, conv trace
# at 80 req/s for 600 s (SplitwiseSim: 67.5 s). Prints each run's process wall time, CPU time (user + sys) and the
# simulator's own wallSeconds, then the medians.
# Usage: bench/scripts/simulate-speed.sh [runs] [strata binary...]   (default: 5 runs of the Release build)
set -euo pipefail
runs=${1:-5}
shift || true
binaries=("$@")
if [ ${#binaries[@]} -eq 0 ]; then
  binaries=("$(dirname "$0")/../../src/Strata.Cli/bin/Release/net10.0/strata")
fi

args=(simulate --compat splitwisesim --model bloom-176b --trace conv --rate 80 --duration 600 --design baseline-h100 --machines 40 --json)
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((i = 1; i <= runs; i++)); do
  for b in "${!binaries[@]}"; do
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" "${binaries[$b]}" "${args[@]}" > "$tmp/out.json"
    read -r wall user sys < "$tmp/time"
    sim=$(grep -o '"wallSeconds": [0-9.eE+-]*' "$tmp/out.json" | awk '{ print $2 }')
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    echo "binary $b run $i: process ${wall} s wall, ${cpu} s CPU; simulation ${sim} s wall"
    echo "$wall" >> "$tmp/wall.$b"; echo "$cpu" >> "$tmp/cpu.$b"; echo "$sim" >> "$tmp/sim.$b"
  done
done
for b in "${!binaries[@]}"; do
  echo "binary $b (${binaries[$b]}): median of $runs: process $(median < "$tmp/wall.$b") s wall, $(median < "$tmp/cpu.$b") s CPU; simulation $(median < "$tmp/sim.$b") s wall"
done
echo "load average during the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
