#!/usr/bin/env bash
# Where a message's microseconds go in the node: one trm-broker node as
# deployed (signatures verified, signed acknowledgements required, case rules
# enforced), 4 KiB envelopes. The publish at window 64 and the drain with
# signed acknowledgements each run under `perf record`; bench/profile_report.py
# splits the node's CPU per message into verification, parse, encode, hash,
# RocksDB, gRPC, kernel (network, fsync, scheduling) and the rest, and lists
# the hottest functions.
#
#   ./bench/profile.sh [N=20000] [--docs]
#
# --docs writes the breakdown into docs/benchmarks.md (between the
# "bench/profile.sh" markers). Needs perf (Debian's linux-perf; installed
# here) and root or perf_event_paranoid <= 1 for another process.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
N=20000; docs=""
for a in "$@"; do
  case "$a" in
    --docs) docs="$root/docs/benchmarks.md" ;;
    [0-9]*) N=$a ;;
    *) echo "usage: bench/profile.sh [N] [--docs]" >&2; exit 2 ;;
  esac
done
SIZE=4096
if ! command -v perf >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
fi
BENCH_DEPLOYED=1
# As bench/compare.sh drains: 256 per ReceiveMany, one AckMany per batch.
CONSUME_FLAGS=${CONSUME_FLAGS:---receive-many --pipeline}
source bench/node_lib.sh
bench_setup
start_node

# record PHASE CMD...: runs CMD with perf sampling the node; keeps CMD's line
# and the node's CPU ticks.
record() {
  local phase=$1; shift
  perf record -q -F 1999 -p "$pid" -o "$work/$phase.data" 2>"$work/$phase.perf.log" &
  local perf_pid=$!
  # perf attaches within a moment; wait until it has written its header.
  for _ in $(seq 1 400); do [ -s "$work/$phase.data" ] && break; sleep 0.01; done
  local line
  line=$("$@")
  kill -INT $perf_pid; wait $perf_pid || true
  echo "$phase: $line" >&2
  echo "$line" >"$work/$phase.line"
}
record publish produce "$N" 64
record drain consume "$N"
stop_node
for phase in publish drain; do
  perf report -i "$work/$phase.data" --no-children --sort dso,sym --stdio -q \
    --percent-limit 0 2>/dev/null >"$work/$phase.txt"
done
python3 "$root/bench/profile_report.py" --n "$N" \
  --phase "publish=$work/publish.txt=$work/publish.line" \
  --phase "drain=$work/drain.txt=$work/drain.line" ${docs:+--docs "$docs"}
