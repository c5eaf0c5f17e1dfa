#!/usr/bin/env bash
# Backlog benchmark: does a node with a deep queue stay as fast as an empty
# one, restart quickly, and stay small in memory?
#  1. empty node: submit M at window 64, drain M (the baseline);
#  2. fill the recipient's queue with BACKLOG sealed 4 KiB envelopes
#     (backlog_fill, straight into the stopped node's store);
#  3. restart (clean close before it) and time until it serves; then wait
#     for the fill's compactions to settle, as they would have in a queue
#     that grew over days;
#  4. submit M at window 64 on top of the backlog, then drain in rounds of M,
#     each round from the queue head that the previous round's acks left
#     behind (the tombstone pitfall shows up as rounds getting slower);
#  5. kill -9 and time the restart again;
#  6. report the node's peak resident memory (VmHWM) for each process.
# usage: bench/backlog.sh [BACKLOG=1000000] [M=20000] [ROUNDS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
BACKLOG=${1:-1000000}; M=${2:-20000}; ROUNDS=${3:-5}; SIZE=4096
# The node as deployed: signed acknowledgements (the consumer signs each)
# and case rules on (BENCH_DEPLOYED=0 for unsigned acknowledgements).
BENCH_DEPLOYED=${BENCH_DEPLOYED:-1}
# Drains as bench/compare.sh does: 256 per ReceiveMany, one AckMany each,
# sent while the next batch is received (one in flight).
CONSUME_FLAGS=${CONSUME_FLAGS:---receive-many --pipeline}
source bench/node_lib.sh
bench_setup
# msg/s of a produce or consume helper's output (its RESULT line).
rate() { grep -o 'msgps=[0-9]*' <<<"$1" | tail -1 | cut -d= -f2; }
drain_rate() { rate "$1"; }

start_node
echo "empty queue: restart ready in ${ready_ms} ms"
p=$(produce "$M" 64); echo "empty queue: submit win=64 n=$M: $p"; base_submit=$(rate "$p")
c=$(consume "$M"); echo "empty queue: drain n=$M: $c"; base_drain=$(drain_rate "$c")
echo "empty queue: peak RSS $(peak_rss_mib) MiB"
stop_node

"$bin/bench/backlog_fill" --data-dir data --sign-key keys/bg-ngo.sign.key \
  --recipient-pub keys/bg-naptip.enc.pub --from bg-ngo@bg --to bg-naptip@bg \
  --count "$BACKLOG" --size $SIZE
echo "data directory: $(du -sh data | cut -f1)"

start_node
echo "backlog $BACKLOG: restart after a clean stop ready in ${ready_ms} ms"
wait_idle
echo "backlog $BACKLOG: background compaction settled after ${settle_s} s"
p=$(produce "$M" 64); echo "backlog $BACKLOG: submit win=64 n=$M: $p"
echo "backlog $BACKLOG: submit ratio to empty $(awk -v a="$(rate "$p")" -v b="$base_submit" 'BEGIN{printf "%.2f", a / b}')"
for r in $(seq 1 "$ROUNDS"); do
  c=$(consume "$M")
  echo "backlog $BACKLOG: drain round $r n=$M: $(drain_rate "$c") msg/s, ratio to empty $(awk -v a="$(drain_rate "$c")" -v b="$base_drain" 'BEGIN{printf "%.2f", a / b}'): $c"
done
echo "backlog $BACKLOG: peak RSS $(peak_rss_mib) MiB"
kill -9 $pid; wait $pid 2>/dev/null || true; pid=""
start_node
echo "backlog $BACKLOG: restart after kill -9 ready in ${ready_ms} ms"
c=$(consume "$M"); echo "backlog $BACKLOG: drain after kill -9 n=$M: $(drain_rate "$c") msg/s"
echo "backlog $BACKLOG: peak RSS $(peak_rss_mib) MiB"
stop_node
