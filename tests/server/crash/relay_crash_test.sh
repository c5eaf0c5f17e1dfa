#!/usr/bin/env bash
# Crash safety across a relay: bg-ngo submits to ng-naptip through BG and NG
# (mutual TLS) while both nodes are killed with SIGKILL at random moments,
# alternately, KILLS times (default 10), each restarted at once. Then:
#   - every message BG receipted was delivered at NG;
#   - after dedup at the consumer, each was delivered exactly once;
#   - no acknowledged consumer-ack was undone;
#   - nothing is left queued at BG, and nothing comes back at NG after a
#     final restart.
#   - the way back converges: every receipted message ends ACKNOWLEDGED in
#     its sender's status at BG, with a REMOTE_ACKNOWLEDGED audit event each
#     and valid evidence (a sample is checked against the signed directory).
# Usage: relay_crash_test.sh TRM_BROKER TRMCTL TRM_LOAD [MESSAGES] [KILLS]
set -u
VERDICT=$(cd "$(dirname "$0")" && pwd)/verdict.py
BROKER=$(readlink -f "$1"); TRMCTL=$(readlink -f "$2"); LOAD=$(readlink -f "$3")
N=${4:-1000}; KILLS=${5:-10}
RATE=$(( N * 10 / (KILLS * 6) + 1 ))
HERE=$(cd "$(dirname "$0")/.." && pwd)
PKI=$HERE/../../deploy/pki/make-pki.sh
work=$(mktemp -d)
declare -A pids
producer=""; consumer=""
cleanup() {
  for p in "${pids[@]}" $producer $consumer; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
source "$HERE/federation_lib.sh"
node_config bg "$bg_port" bg
node_config ng "$ng_port" ng
start bg; start ng
tls() { echo --ca pki/ca.crt --cert "pki/org-$1.crt" --key "pki/org-$1.key"; }
"$LOAD" produce --node "127.0.0.1:$bg_port" $(tls bg-ngo) --sign-key keys/bg-ngo.sign.key \
  --recipient-pub keys/ng-naptip.enc.pub --from bg-ngo@bg --to ng-naptip@ng \
  --count "$N" --window 32 --size 1024 --rate "$RATE" --log producer.log >producer.out 2>&1 &
producer=$!
"$LOAD" consume --node "127.0.0.1:$ng_port" $(tls ng-naptip) --expect "$N" \
  --sign-key keys/ng-naptip.sign.key \
  --timeout-s 240 --log consumer.log >consumer.out 2>&1 &
consumer=$!

for k in $(seq 1 "$KILLS"); do
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 0.8), 2))')"
  n=bg; [ $((k % 2)) = 0 ] && n=ng
  kill -9 "${pids[$n]}"; wait "${pids[$n]}" 2>/dev/null
  start "$n"
done
echo "killed and restarted BG and NG $KILLS times in all"
wait "$producer"; prc=$?; producer=""
wait "$consumer"; crc=$?; consumer=""
cat producer.out consumer.out

# A last hard restart of both: nothing acknowledged may come back.
for n in bg ng; do kill -9 "${pids[$n]}"; wait "${pids[$n]}" 2>/dev/null; start "$n"; done
"$TRMCTL" --json receive --node "127.0.0.1:$ng_port" $(tls ng-naptip) \
  --recipient-key keys/ng-naptip.enc.key --sign-key keys/ng-naptip.sign.key --keys-dir keys \
  --out-dir . --wait-ms 3000 >final.json 2>&1
grep -c "relay to ng failing" bg.log | sed 's/^/relay failures logged at BG: /'

# The way back: wait for the event itself (every receipted message has its
# REMOTE_ACKNOWLEDGED at BG), with a deadline, then check evidence.
trust=(--directory directory.signed --authority-pub keys/authority.sign.pub)
back=1
deadline=$((SECONDS + 20 * ${TRM_WAIT_SCALE:-3}))
while [ $SECONDS -lt $deadline ]; do
  "$TRMCTL" --json audit trail --node "127.0.0.1:$bg_port" --ca pki/ca.crt --cert pki/auditor-grevio.crt --key pki/auditor-grevio.key "${trust[@]}" \
    --kind REMOTE_ACKNOWLEDGED >trail.json 2>&1
  python3 - <<'PY' && { back=0; break; }
import json, sys
receipts = {l.split()[1] for l in open("producer.log") if l.startswith("receipt ")}
acked = {e["message_id"] for e in json.load(open("trail.json")).get("events", [])}
missing = receipts - acked
print(f"acknowledged at BG by the way back: {len(receipts & acked)} of {len(receipts)}",
      file=open("progress", "w"))
sys.exit(1 if missing else 0)
PY
  sleep 0.1
done
cat progress
grep -q "every entry verified" trail.json; proofs=$?
sample_ok=0
for id in $(grep '^receipt ' producer.log | shuf -n 5 | cut -d' ' -f2); do
  "$TRMCTL" status --node "127.0.0.1:$bg_port" $(tls bg-ngo) "${trust[@]}" "$id" >st.out 2>&1
  grep -q ": ACKNOWLEDGED" st.out && grep -q "acknowledgement: valid, signed by ng-naptip" st.out &&
    grep -q "delivery_receipt: valid, signed by node ng" st.out ||
    { echo "FAIL: status of $id at BG:"; cat st.out; sample_ok=1; }
done
for n in bg ng; do kill -TERM "${pids[$n]}"; wait "${pids[$n]}"; unset "pids[$n]"; done

[ $back = 0 ] && echo "way back: every receipted message ACKNOWLEDGED at BG" ||
  echo "FAIL: way back: some receipted messages never reached ACKNOWLEDGED at BG"
[ $proofs = 0 ] || echo "FAIL: the trail's proofs were not verified"
python3 "$VERDICT" "relay crash test" "$N" "$prc" "$crc" && [ $back = 0 ] && [ $proofs = 0 ] &&
  [ $sample_ok = 0 ]
