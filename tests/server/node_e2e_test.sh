#!/usr/bin/env bash
# A real trm-broker process and trmctl: send, receipt, status, receive, ack,
# the refusals a user meets, graceful SIGTERM, and state across a restart.
set -u
CHECKS=$(cd "$(dirname "$0")/.." && pwd)/checks.sh
BROKER=$(readlink -f "$1")
TRMCTL=$(readlink -f "$2")
EXAMPLE=$(cd "$(dirname "$0")/../../deploy" && pwd)/node.example.json
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
source "$CHECKS"
"$BROKER" --version >out 2>&1; check "trm-broker --version" 0 $?
contains "version line" "trm-broker [0-9]" out

mkdir keys inbox
for org in bg-node bg-ngo bg-naptip; do
  "$TRMCTL" --json keygen --org $org --dir keys >"keys/$org.json" || { echo "keygen failed"; exit 1; }
done
sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_sha256"])' "keys/$1.json"; }
cat >node.json <<JSON
{
  "node_id": "bg",
  "listen": "127.0.0.1:0",
  "data_dir": "data",
  "node_signing_key": "keys/bg-node.sign.key",
  "visibility_timeout_seconds": 30,
  "_case_rules": "transport test: the case rules have their own tests",
  "case_rules": {"enforce": false},
  "organisations": [
    {"id": "bg-ngo", "signing_public_key": "keys/bg-ngo.sign.pub", "encryption_public_key": "keys/bg-ngo.enc.pub", "token_sha256": "$(sha bg-ngo)"},
    {"id": "bg-naptip", "signing_public_key": "keys/bg-naptip.sign.pub", "encryption_public_key": "keys/bg-naptip.enc.pub", "token_sha256": "$(sha bg-naptip)",
     "max_queued_bytes": 1048576}
  ]
}
JSON

start() {
  "$BROKER" --config node.json --insecure-dev >broker.log 2>&1 &
  pid=$!
  for _ in $(seq 1 "$(polls 100)"); do
    port=$(sed -n 's/.*serving on 127.0.0.1:\([0-9]*\).*/\1/p' broker.log)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: broker did not start:"; cat broker.log; exit 1
}
start
node="--node 127.0.0.1:$port --insecure-dev"

"$TRMCTL" case payload --type referral-request --text 'needs: "shelter"' --out payload >/dev/null
"$TRMCTL" --json send $node --token-file keys/bg-ngo.token --type referral-request \
  --case BG-2026-7 --from bg-ngo@bg --to bg-naptip@bg --sign-key keys/bg-ngo.sign.key \
  --recipient-pub keys/bg-naptip.enc.pub --in payload --node-pub keys/bg-node.sign.pub >out 2>&1
check send 0 $?

# A second node on the same port does not start: gRPC's SO_REUSEPORT would
# let the two share it, each answering some connections. It says why.
sed -e "s|\"listen\": \"127.0.0.1:0\"|\"listen\": \"127.0.0.1:$port\"|" \
  -e 's|"data_dir": "data"|"data_dir": "data2"|' node.json >second.json
timeout 120 "$BROKER" --config second.json --insecure-dev >second.log 2>&1
check "a second node on the same port" 1 $?
contains "the port in use named" "LISTEN_FAILED: cannot listen on 127.0.0.1:$port" second.log
contains "receipt verified" '"receipt":"valid"' out
# The node names its threads (docs/operations.md, "Metrics"): the committer
# and the verification helpers are told apart in top -H and perf.
cat /proc/$pid/task/*/comm >threads 2>/dev/null
contains "the committer named" '^trm-commit$' threads
contains "the verification helpers named" '^trm-pool$' threads
contains "the sweeper named" '^trm-sweeper$' threads
id=$(python3 -c 'import json; print(json.load(open("out"))["message_id"])')

"$TRMCTL" status $node --token-file keys/bg-ngo.token "$id" >out 2>&1; check status 0 $?
contains "accepted" ACCEPTED out

# Refusals, each with its reason.
"$TRMCTL" send $node --token-file keys/bg-naptip.token --type referral-request \
  --case BG-2026-7 --from bg-ngo@bg --to bg-naptip@bg --sign-key keys/bg-ngo.sign.key \
  --recipient-pub keys/bg-naptip.enc.pub --in payload >out 2>&1
check "sending as another organisation" 1 $?
contains "permission reason" SENDER_NOT_CALLER out
"$TRMCTL" send $node --token-file keys/bg-ngo.token --type referral-request \
  --case BG-2026-7 --from bg-ngo@bg --to it-ngo@it --sign-key keys/bg-ngo.sign.key \
  --recipient-pub keys/bg-naptip.enc.pub --in payload >out 2>&1
check "unknown recipient" 1 $?
contains "recipient reason" UNKNOWN_RECIPIENT out
rejected=$(sed -nE 's/^message ([0-9a-f]{32}) not accepted$/\1/p' out)
"$TRMCTL" status $node --token-file keys/bg-ngo.token "$rejected" >out 2>&1
check "status of a refused message" 0 $?
contains "rejected state" REJECTED out
contains "rejection reason kept" "reason_code: UNKNOWN_RECIPIENT" out
echo wrong >bad.token
"$TRMCTL" status $node --token-file bad.token "$id" >out 2>&1; check "unknown token" 1 $?
contains "credential reason" UNKNOWN_CREDENTIAL out
"$TRMCTL" status $node --token-file keys/bg-naptip.token "$id" >out 2>&1
check "status of someone else's message" 1 $?

# The recipient receives, opens and acknowledges with its signature. Without
# --sign-key nothing is fetched; an unsigned acknowledgement is refused by
# the node, and the message is given back.
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --keys-dir keys --out-dir inbox >out 2>&1; check "receive without --sign-key" 2 $?
contains "says what to give" "receive needs --sign-key" out
"$TRMCTL" --json receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --keys-dir keys --out-dir inbox >out 2>&1; check "receive without --sign-key, --json" 2 $?
python3 -c 'import json; d=json.loads(open("out").read()); assert d["ok"] is False and "sign-key" in d["error"]' 2>/dev/null
check "--json: one JSON object for the usage error" 0 $?
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --unsigned-acks --keys-dir keys --out-dir inbox >out 2>&1; check "unsigned acknowledgement" 1 $?
contains "unsigned reason" "requires a signed acknowledgement" out
contains "says what was received and opened" "1 received, 0 opened and acknowledged, 0 refused, 1 not" out
"$TRMCTL" --json receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --unsigned-acks --keys-dir keys --out-dir inbox >out 2>&1; check "unsigned acknowledgement, --json" 1 $?
python3 -c 'import json,sys; d=json.loads(open("out").read()); assert d["ok"] is False and d["reason"]=="MESSAGES_NOT_OPENED" and len(d["messages"])==1' 2>/dev/null
check "--json: exactly one JSON object, with the refusal" 0 $?
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --sign-key keys/bg-naptip.sign.key --keys-dir keys --out-dir inbox >out 2>&1; check receive 0 $?
cmp -s payload "inbox/$id.payload"; check "payload delivered intact" 0 $?
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --sign-key keys/bg-naptip.sign.key --keys-dir keys --out-dir inbox >out 2>&1; check "receive again" 0 $?
contains "nothing left after ack" "no messages" out
"$TRMCTL" status $node --token-file keys/bg-ngo.token "$id" >out 2>&1
contains "acknowledged" ACKNOWLEDGED out
contains "signed acknowledgement kept" "acknowledgement: not checked" out

# A message that can never open (signed, but sealed under other associated
# data by the independent implementation) is refused by receive with a
# signed refusal: it leaves the queue and its sender sees REFUSED.
python3 "$(dirname "$CHECKS")/interop/trm_envelope.py" seal --undecryptable \
  --sign-key keys/bg-ngo.sign.key --recipient-pub keys/bg-naptip.enc.pub \
  --from bg-ngo@bg --to bg-naptip@bg --type 4 --case BG-2026-7 --in payload --out bad.env
check "an undecryptable envelope" 0 $?
"$TRMCTL" --json submit $node --token-file keys/bg-ngo.token --in bad.env >out 2>&1
check "submit an envelope sealed before" 0 $?
bad=$(python3 -c 'import json; print(json.load(open("out"))["message_id"])')
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --sign-key keys/bg-naptip.sign.key --keys-dir keys --out-dir inbox >out 2>&1
check "receive refuses what never opens" 0 $?
contains "refused, with the reason" "refused REFERRAL_REQUEST $bad from bg-ngo (case BG-2026-7) as CANNOT_OPEN: DECRYPTION_FAILED" out
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --sign-key keys/bg-naptip.sign.key --keys-dir keys --out-dir inbox >out 2>&1
contains "the refused message left the queue" "no messages" out
"$TRMCTL" status $node --token-file keys/bg-ngo.token "$bad" >out 2>&1; check "status of the refused" 0 $?
contains "sender sees REFUSED" "^message $bad: REFUSED" out
contains "refusal reason" "reason_code: REFUSED_CANNOT_OPEN" out
contains "signed refusal kept" "refusal: not checked" out
# One whose header says what its payload does not: a consent record routed
# without the outcome its payload states (sealed by the independent
# implementation, which takes nothing from the payload). The recipient
# opens it, sees the disagreement and refuses it; nothing is written.
sealed_mismatch mismatch.env keys/bg-ngo.sign.key keys/bg-naptip.enc.pub bg-ngo@bg bg-naptip@bg \
  BG-2026-7
"$TRMCTL" --json submit $node --token-file keys/bg-ngo.token --in mismatch.env >out 2>&1
check "submit a header that disagrees with its payload" 0 $?
mismatch=$(python3 -c 'import json; print(json.load(open("out"))["message_id"])')
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --sign-key keys/bg-naptip.sign.key --keys-dir keys --out-dir inbox >out 2>&1
check "receive refuses the disagreement" 0 $?
contains "refused as a mismatch, naming both" "refused CONSENT_RECORD $mismatch .* as HEADER_PAYLOAD_MISMATCH: .*outcome is none, the payload says CONSENT_GRANTED" out
[ ! -e "inbox/$mismatch.payload" ]; check "its payload is not written" 0 $?
"$TRMCTL" status $node --token-file keys/bg-ngo.token "$mismatch" >out 2>&1
contains "the sender sees why" "reason_code: REFUSED_HEADER_PAYLOAD_MISMATCH" out
# A message the recipient will not process is refused by id, with a reason
# and a text: here one whose sender key is not in its keys directory.
"$TRMCTL" --json send $node --token-file keys/bg-ngo.token --type referral-request \
  --case BG-2026-8 --from bg-ngo@bg --to bg-naptip@bg --sign-key keys/bg-ngo.sign.key \
  --recipient-pub keys/bg-naptip.enc.pub --in payload >out 2>&1; check "send another" 0 $?
other=$(python3 -c 'import json; print(json.load(open("out"))["message_id"])')
mkdir nokeys
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --sign-key keys/bg-naptip.sign.key --keys-dir nokeys --out-dir inbox >out 2>&1
check "a message it cannot check here" 1 $?
contains "says how to refuse it" "trmctl receive ... --refuse $other" out
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --sign-key keys/bg-naptip.sign.key --keys-dir nokeys --out-dir inbox --refuse "$other" \
  --reason bogus >out 2>&1; check "an unknown refusal reason" 2 $?
contains "names the reasons" "CANNOT_OPEN, WRONG_TYPE, NOT_OURS or HEADER_PAYLOAD_MISMATCH" out
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --sign-key keys/bg-naptip.sign.key --keys-dir nokeys --out-dir inbox --refuse "$other" \
  --reason not_ours --text "not a case of ours: BG-2026-8 is with another office" >out 2>&1
check "refuse by id" 0 $?
"$TRMCTL" --json status $node --token-file keys/bg-ngo.token "$other" >out 2>&1
python3 -c 'import json; s=json.load(open("out"))["status"]; assert s["state"]=="REFUSED" and s["reason_code"]=="REFUSED_NOT_OURS" and "another office" in s["reason"], s'
check "the sender sees the refusal's reason and text" 0 $?

# Graceful stop, then the state is still there.
payload_file feedback risk-feedback
"$TRMCTL" send $node --token-file keys/bg-ngo.token --type risk-feedback \
  --case BG-2026-7 --from bg-ngo@bg --to bg-naptip@bg --sign-key keys/bg-ngo.sign.key \
  --recipient-pub keys/bg-naptip.enc.pub --in feedback >out 2>&1; check "second send" 0 $?
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "SIGTERM exits 0" 0 $rc
contains "clean stop" "stopped cleanly" broker.log
start
node="--node 127.0.0.1:$port --insecure-dev"
"$TRMCTL" status $node --token-file keys/bg-ngo.token "$id" >out 2>&1
contains "acknowledgement survives restart" ACKNOWLEDGED out
"$TRMCTL" receive $node --token-file keys/bg-naptip.token --recipient-key keys/bg-naptip.enc.key \
  --sign-key keys/bg-naptip.sign.key --keys-dir keys --out-dir inbox >out 2>&1; check "receive after restart" 0 $?
contains "queued message survives restart" RISK_FEEDBACK out
kill -TERM "$pid"; wait "$pid"; pid=""

# Plaintext only on loopback and only when asked for.
"$BROKER" --config node.json >out 2>&1; check "no --insecure-dev" 1 $?
contains "tls message" TLS_REQUIRED out
"$BROKER" --config node.json --insecure-dev --listen 0.0.0.0:0 >out 2>&1
check "not loopback" 1 $?
echo '{"node_id": "bg"}' >broken.json
"$BROKER" --config broken.json --insecure-dev >out 2>&1; check "bad config" 1 $?
contains "config message" CONFIG_INVALID out
echo '{"node_id": "bg", "data_dir": "d", "node_signing_key": "k", "listen_on": "x",
      "organisations": []}' >typo.json
"$BROKER" --config typo.json --insecure-dev >out 2>&1; check "misspelt key" 1 $?
contains "typo named" '"listen_on"' out
# The shipped example is a valid configuration: it fails only on its key paths.
"$BROKER" --config "$EXAMPLE" >out 2>&1; check "example config" 1 $?
contains "example parses" KEY_FILE_IO out
for n in bg ng it; do  # the per-node examples too
  "$BROKER" --config "$(dirname "$EXAMPLE")/examples/$n.json" --check-config >out 2>&1
  check "example $n.json" 1 $?
  contains "example $n.json parses" KEY_FILE_IO out
done
exit $fail
