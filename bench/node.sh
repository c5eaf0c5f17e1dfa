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
./scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target trm-broker trmctl trm_load >/dev/null
bin="$root/build/release"
if [ $peers = 1 ] && [ -x ../shared/peers/run-peers.sh ]; then
  bash ../shared/peers/run-peers.sh "$N" "$SIZE" "1 64 256" | grep -E 'publish|consume'
fi
work=$(mktemp -d); pid=""
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"; mkdir keys
for o in bg-node bg-ngo bg-naptip; do "$bin/client/trmctl" --json keygen --org $o --dir keys >keys/$o.json; done
sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_sha256"])' keys/$1.json; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >node.json <<JSON
{"node_id": "bg", "listen": "127.0.0.1:$port", "data_dir": "data", "node_signing_key": "keys/bg-node.sign.key",
 "organisations": [
  {"id": "bg-ngo", "signing_public_key": "keys/bg-ngo.sign.pub", "token_sha256": "$(sha bg-ngo)", "max_queued_bytes": 100000000000},
  {"id": "bg-naptip", "signing_public_key": "keys/bg-naptip.sign.pub", "token_sha256": "$(sha bg-naptip)", "max_queued_bytes": 100000000000}]}
JSON
"$bin/server/trm-broker" --config node.json --insecure-dev >broker.log 2>&1 & pid=$!
for _ in $(seq 1 100); do grep -q "serving on" broker.log && break; sleep 0.05; done
ticks() { awk '{print $14 + $15}' /proc/$pid/stat; }
hz=$(getconf CLK_TCK)
total=0
for w in 1 64 256; do
  n=$N; [ $w = 1 ] && n=$(( N / 10 ))
  t0=$(ticks)
  line=$("$bin/bench/trm_load" produce --node 127.0.0.1:$port --token-file keys/bg-ngo.token \
    --sign-key keys/bg-ngo.sign.key --recipient-pub keys/bg-naptip.enc.pub \
    --from bg-ngo@bg --to bg-naptip@bg --count $n --window $w --size "$SIZE")
  t1=$(ticks)
  echo "trm-broker publish win=$w size=$SIZE n=$n: ${line#produce: } broker CPU $(( (t1 - t0) * 1000000 / hz / n )) us/msg"
  total=$(( total + n ))
done
t0=$(ticks)
line=$("$bin/bench/trm_load" consume --node 127.0.0.1:$port --token-file keys/bg-naptip.token --expect $total)
t1=$(ticks)
echo "trm-broker consume (256 per receive, AckMany per batch): ${line#consume: } broker CPU $(( (t1 - t0) * 1000000 / hz / total )) us/msg"
kill -TERM $pid; wait $pid; pid=""
