#!/usr/bin/env bash
# The audit log's cost and its read speed at scale:
#   - submit throughput (4 KiB, W=64, signature verified, fsync per receipt)
#     with the audit log on and off (trm-broker --no-audit-log), alternating,
#     ROUNDS rounds of N messages each, same node config and machine;
#   - an inclusion proof in a log of LEAVES (default 10,000,000) entries;
#   - a trail query for one case among EVENTS (default 1,000,000) events.
# usage: bench/audit.sh [N=10000] [ROUNDS=3] [LEAVES=10000000] [EVENTS=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}; ROUNDS=${2:-3}; LEAVES=${3:-10000000}; EVENTS=${4:-1000000}
SIZE=4096
source bench/node_lib.sh
bench_setup
cd "$work"
rate() { sed -E 's/.* = ([0-9]+) msg\/s.*/\1/' <<<"$1"; }
on=(); off=()
for r in $(seq 1 "$ROUNDS"); do
  for mode in on off; do
    rm -rf data
    if [ $mode = off ]; then BROKER_FLAGS=--no-audit-log; else BROKER_FLAGS=; fi
    start_node
    line=$(produce "$N" 64)
    stop_node
    echo "round $r, audit log $mode: $line"
    if [ $mode = on ]; then on+=("$(rate "$line")"); else off+=("$(rate "$line")"); fi
  done
done
python3 - "${on[*]}" "${off[*]}" <<'PY'
import statistics, sys
on = [int(x) for x in sys.argv[1].split()]
off = [int(x) for x in sys.argv[2].split()]
m_on, m_off = statistics.median(on), statistics.median(off)
print(f"submit W=64 4 KiB: audit log on median {m_on:.0f} msg/s (min {min(on)}, max {max(on)}), "
      f"off median {m_off:.0f} msg/s (min {min(off)}, max {max(off)}): ratio {m_on / m_off:.2f} "
      f"(target at least 0.9)")
PY
"$bin/bench/audit_bench" proofs --dir "$work/proofs" --leaves "$LEAVES" --samples 2000
rm -rf "$work/proofs"
"$bin/bench/audit_bench" queries --dir "$work/queries" --events "$EVENTS" --cases $(( EVENTS / 10 )) --samples 500
