#!/usr/bin/env bash
# Durable submit and drain through one trm-broker node, 4 KiB envelopes,
# signature verification on, fsync before every receipt. Prints msg/s,
# submit-to-receipt latency and the broker's CPU microseconds per message
# for windows 1, 64 and 256, then the drain with one ack per message.
# With --peers it first runs ../shared/peers/run-peers.sh (RabbitMQ, NATS)
# on the same machine, when that script is present.
# usage: bench/node.sh [--peers] [N=20000] [SIZE=4096]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
peers=0
if [ "${1:-}" = "--peers" ]; then peers=1; shift; fi
N=${1:-20000}; SIZE=${2:-4096}
source bench/node_lib.sh
if [ $peers = 1 ] && [ -x "$root/../shared/peers/run-peers.sh" ]; then
  bash "$root/../shared/peers/run-peers.sh" "$N" "$SIZE" "1 64 256" | grep -E 'publish|consume'
fi
bench_setup
start_node
total=0
for w in 1 64 256; do
  n=$N; [ $w = 1 ] && n=$(( N / 10 ))
  echo "trm-broker publish win=$w size=$SIZE n=$n: $(produce $n $w)"
  total=$(( total + n ))
done
echo "trm-broker consume (256 per receive, AckMany per batch): $(consume $total)"
stop_node
