#!/usr/bin/env bash
# Crash safety: a real trm-broker under concurrent submit and receive load is
# killed with SIGKILL at random moments (KILLS times, default 20) and
# restarted each time. Then:
#   - every message whose submit was acknowledged (receipt) was delivered;
#   - after dedup at the consumer, each was delivered exactly once;
#   - no acknowledged consumer-ack was undone (nothing came back after its
#     ack returned, and nothing is left after a final restart).
# Usage: crash_test.sh TRM_BROKER TRMCTL TRM_LOAD [MESSAGES] [KILLS] [BATCH]
set -u
VERDICT=$(cd "$(dirname "$0")" && pwd)/verdict.py
source "$(cd "$(dirname "$0")/../.." && pwd)/checks.sh"  # polls
BROKER=$(readlink -f "$1"); TRMCTL=$(readlink -f "$2"); LOAD=$(readlink -f "$3")
N=${4:-3000}; KILLS=${5:-20}
# BATCH > 0: submit with SubmitBatches, BATCH envelopes per stream message,
# and receive with ReceiveMany.
BATCH=${6:-0}
# Paced so that submits go on through all the kills (about 0.45 s apart).
RATE=$(( N * 10 / (KILLS * 9) + 1 ))
work=$(mktemp -d)
pid=""; producer=""; consumer=""
cleanup() {
  for p in $pid $producer $consumer; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
mkdir keys
for org in bg-node bg-ngo bg-naptip; do
  "$TRMCTL" --json keygen --org $org --dir keys >"keys/$org.json" || exit 1
done
sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_sha256"])' "keys/$1.json"; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >node.json <<JSON
{"node_id": "bg", "listen": "127.0.0.1:$port", "data_dir": "data",
 "node_signing_key": "keys/bg-node.sign.key", "visibility_timeout_seconds": 2,
 "organisations": [
  {"id": "bg-ngo", "signing_public_key": "keys/bg-ngo.sign.pub", "encryption_public_key": "keys/bg-ngo.enc.pub", "token_sha256": "$(sha bg-ngo)"},
  {"id": "bg-naptip", "signing_public_key": "keys/bg-naptip.sign.pub", "encryption_public_key": "keys/bg-naptip.enc.pub", "token_sha256": "$(sha bg-naptip)"}]}
JSON
start() {
  "$BROKER" --config node.json --insecure-dev >>broker.log 2>&1 &
  pid=$!
  for _ in $(seq 1 "$(polls 100)"); do
    grep -q "serving on" <(tail -n 3 broker.log) && return 0
    sleep 0.05
  done
  echo "broker did not start"; tail broker.log; exit 1
}
start
node="127.0.0.1:$port"
"$LOAD" produce --node "$node" --token-file keys/bg-ngo.token --sign-key keys/bg-ngo.sign.key \
  --recipient-pub keys/bg-naptip.enc.pub --from bg-ngo@bg --to bg-naptip@bg \
  --count "$N" --window 64 --size 1024 --rate "$RATE" --batch "$BATCH" --log producer.log >producer.out 2>&1 &
producer=$!
"$LOAD" consume --node "$node" --token-file keys/bg-naptip.token --expect "$N" \
  --sign-key keys/bg-naptip.sign.key \
  --timeout-s 240 $([ "$BATCH" -gt 0 ] && echo --receive-many --pipeline) --log consumer.log >consumer.out 2>&1 &
consumer=$!

for k in $(seq 1 "$KILLS"); do
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.1, 0.6), 2))')"
  kill -9 "$pid"; wait "$pid" 2>/dev/null
  start
done
echo "killed and restarted the broker $KILLS times"
wait "$producer"; prc=$?; producer=""
wait "$consumer"; crc=$?; consumer=""
cat producer.out consumer.out

# A last restart: nothing acknowledged may come back.
kill -9 "$pid"; wait "$pid" 2>/dev/null; start
"$TRMCTL" --json receive --node "$node" --insecure-dev --token-file keys/bg-naptip.token \
  --recipient-key keys/bg-naptip.enc.key --sign-key keys/bg-naptip.sign.key --keys-dir keys \
  --out-dir . --wait-ms 3000 >final.json 2>&1
kill -TERM "$pid"; wait "$pid"; pid=""

python3 "$VERDICT" "crash test" "$N" "$prc" "$crc"
