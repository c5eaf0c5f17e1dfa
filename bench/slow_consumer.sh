#!/usr/bin/env bash
# The slow consumer of issue 15 section 3, on a live node (release build,
# RocksDB store): fill bg-naptip's mailbox with N envelopes of SIZE bytes,
# then open STREAMS Receive streams that each read one delivery and stop
# reading. Prints the node's resident memory (VmRSS) before, while the
# streams hang, and after the node ended them, its threads, and how each
# stream ended. At 397fcdd, before the receive window, 100 messages of 1 MiB
# and three such streams took the node from 187 to 780 MiB.
# usage: bench/slow_consumer.sh [N=100] [STREAMS=3] [SIZE=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}; STREAMS=${2:-3}; SIZE=${3:-1000000}
source bench/node_lib.sh
bench_setup
rss_mib() { awk '/VmRSS/ {print int($2 / 1024)}' /proc/$pid/status; }
threads() { ls /proc/$pid/task | wc -l; }
# A short stall deadline, so that the run shows the end too.
python3 - <<'PY'
import json
c = json.load(open("node.json")); c["limits"] = {"stream_stall_seconds": 10}
json.dump(c, open("node.json", "w"))
PY
start_node
p=$(produce "$N" 8); echo "filled: $p"
echo "mailbox of $N x $SIZE bytes: node RSS $(rss_mib) MiB, $(threads) threads"
"$bin/bench/trm_load" stall --node 127.0.0.1:$port --token-file keys/bg-naptip.token \
  --streams "$STREAMS" --hold-s 60 >stall.out 2>&1 & stall=$!
for _ in $(seq 1 600); do
  [ "$(grep -c 'stops reading' stall.out || true)" -ge "$STREAMS" ] && break; sleep 0.05
done
peak=0
for _ in $(seq 1 16); do  # 8 s of the 10 s deadline: the node fills what it can
  r=$(rss_mib); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.5
done
echo "$STREAMS streams that read one delivery and stopped: node RSS up to $peak MiB, $(threads) threads; the client's RSS $(awk '/VmRSS/ {print int($2 / 1024)}' /proc/$stall/status) MiB"
# What the hanging streams left for another reader, while they hang: all but
# a window each (2 MiB: two or three of these).
avail=$((N - 3 * STREAMS))
c=$("$bin/bench/trm_load" consume --node 127.0.0.1:$port --token-file keys/bg-naptip.token \
  --expect "$avail" --timeout-s 60 --receive-many 2>&1 | head -1 || true)
echo "another reader meanwhile, expecting $avail: ${c#consume: }"
got=$(sed -E 's/^consume: ([0-9]+) distinct.*/\1/' <<<"$c")
wait $stall || true
cat stall.out | grep -v 'stops reading'
echo "after the node ended them: node RSS $(rss_mib) MiB, $(threads) threads"
c=$(consume "$((N - got))"); echo "then a reader drains the other $((N - got)): $c"
stop_node
