#!/usr/bin/env bash
# Three real nodes (BG, NG, IT) over mutual TLS. An organisation in each
# country sends to the organisations of the other two, through both nodes;
# each hop is durable and receipted, and every recipient gets each message
# once, in order per sender and case. Then NG goes down under traffic:
# messages wait at BG, and arrive once and in order when NG is back. Then an
# impostor answers on NG's address with IT's certificate and gets nothing.
set -u
source "$(dirname "$0")/federation_test_lib.sh" "$1" "$2"

node_config bg "$bg_port" bg
node_config ng "$ng_port" ng
node_config it "$it_port" it
for n in bg ng; do  # JSON-lines logs with every message's steps
  python3 - "$n.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["log_format"] = "json"; c["log_messages"] = True
json.dump(c, open(sys.argv[1], "w"))
PY
done
start bg; start ng; start it
declare -A port_of=([bg]=$bg_port [ng]=$ng_port [it]=$it_port)
declare -A node_of=([bg-ngo]=bg [ng-naptip]=ng [it-ngo]=it)
tls_of() { echo --node "127.0.0.1:${port_of[${node_of[$1]}]}" --ca pki/ca.crt --cert "pki/org-$1.crt" --key "pki/org-$1.key"; }
send_as() {  # send_as FROM TO CASE FILE: prints the message id
  "$TRMCTL" --json send $(tls_of "$1") --type referral-request --case "$3" --from "$1@${node_of[$1]}" \
    --to "$2@${node_of[$2]}" --sign-key "keys/$1.sign.key" --recipient-pub "keys/$2.enc.pub" \
    --in "$4" >out 2>&1 && python3 -c 'import json; print(json.load(open("out"))["message_id"])'
}
status_is() {  # status_is FROM ID STATE: within 15 s
  for _ in $(seq 1 "$(polls 300)"); do
    "$TRMCTL" status $(tls_of "$1") "$2" >status.out 2>&1
    grep -q ": $3" status.out && return 0
    sleep 0.05
  done
  return 1
}
received_ids() {  # received_ids ORG: receive everything, print ids in order
  "$TRMCTL" --json receive $(tls_of "$1") --recipient-key "keys/$1.enc.key" --sign-key "keys/$1.sign.key" --keys-dir keys \
    --out-dir inbox --max 1000 >recv.out 2>&1
  python3 -c '
import json
for line in open("recv.out"):
    line = line.strip()
    if line.startswith("{"):
        for m in json.loads(line).get("messages", []): print(m["from"], m["message_id"])'
}

# Every direction, three messages per pair, one case per pair.
mkdir -p inbox
declare -A sent
orgs=(bg-ngo ng-naptip it-ngo)
for from in "${orgs[@]}"; do
  for to in "${orgs[@]}"; do
    [ "$from" = "$to" ] && continue
    for i in 1 2 3; do
      "$TRMCTL" case payload --type referral-request --out msg \
        --text "reason: \"$from to $to, $i\"" >/dev/null
      id=$(send_as "$from" "$to" "CASE-$from-$to" msg) || { echo "FAIL: send $from -> $to"; cat out; fail=1; }
      sent[$to]+="$from $id"$'\n'
    done
  done
done
all_relayed=0
for from in "${orgs[@]}"; do
  for to in "${orgs[@]}"; do
    [ "$from" = "$to" ] && continue
    while read -r f id; do
      [ "$f" = "$from" ] || continue
      status_is "$from" "$id" RELAYED || { echo "FAIL: $from -> $to $id not relayed"; cat status.out; all_relayed=1; }
    done <<<"${sent[$to]}"
  done
done
check "all 18 messages relayed, in every direction" 0 $all_relayed
for to in "${orgs[@]}"; do
  received_ids "$to" >got.txt
  ok=0
  [ "$(wc -l <got.txt)" = 6 ] || ok=1
  for from in "${orgs[@]}"; do
    [ "$from" = "$to" ] && continue
    [ "$(grep "^$from " got.txt)" = "$(grep "^$from " <<<"${sent[$to]}")" ] || ok=1
  done
  check "$to got each of its 6 messages once, in order per sender and case" 0 $ok
  [ $ok = 0 ] || { echo "got:"; cat got.txt; echo "sent:"; echo "${sent[$to]}"; }
done

as_ngo=(--node "127.0.0.1:$bg_port" --ca pki/ca.crt --cert pki/org-bg-ngo.crt --key pki/org-bg-ngo.key)
as_naptip=(--node "127.0.0.1:$ng_port" --ca pki/ca.crt --cert pki/org-ng-naptip.crt --key pki/org-ng-naptip.key)
send() {  # send CASE FILE: prints the message id
  "$TRMCTL" --json send "${as_ngo[@]}" --type referral-request --case "$1" --from bg-ngo@bg \
    --to ng-naptip@ng --sign-key keys/bg-ngo.sign.key --recipient-pub keys/ng-naptip.enc.pub \
    --in "$2" >out 2>&1 && python3 -c 'import json; print(json.load(open("out"))["message_id"])'
}
wait_state() {  # wait_state ID STATE: the sender's status reaches STATE within 15 s
  for _ in $(seq 1 "$(polls 300)"); do
    "$TRMCTL" status "${as_ngo[@]}" "$1" >status.out 2>&1
    grep -q ": $2" status.out && return 0
    sleep 0.05
  done
  return 1
}

"$TRMCTL" case payload --type referral-request --text 'reason: "referral for NAPTIP"' --out p0 >/dev/null
id=$(send BG-1 p0); check "send to another country" 0 $?
wait_state "$id" RELAYED; check "relayed to NG" 0 $?
contains "status names the relaying node" "relayed_to: ng" status.out
# One trace id across both nodes' JSON logs: the message id.
python3 - "$id" >trace.out 2>&1 <<'PY'
import json, sys
trace, steps = sys.argv[1], []
for node in ("bg", "ng"):
    for line in open(node + ".log"):
        if not line.startswith("{"):
            continue
        e = json.loads(line)  # every JSON line parses
        assert e["level"] in ("info", "warn", "error") and e["event"], e
        if e.get("trace_id") == trace:
            steps.append((node, e["event"]))
            assert "payload" not in e and "referral for NAPTIP" not in line, line
print(steps)
assert ("bg", "message.accepted") in steps and ("bg", "message.relayed") in steps, steps
assert ("ng", "message.received") in steps, steps
PY
check "one trace id in both nodes' JSON logs" 0 $?
cat trace.out
"$TRMCTL" status "${as_ngo[@]}" --directory directory.signed --authority-pub keys/authority.sign.pub \
  "$id" >out 2>&1; check "status checks the relay receipt" 0 $?
contains "relay receipt valid" "relay_receipt: valid, signed by node ng" out
"$TRMCTL" status "${as_ngo[@]}" --directory directory.signed --authority-pub keys/bg-ngo.sign.pub \
  "$id" >out 2>&1; check "receipt check needs the real authority" 1 $?
contains "wrong authority reason" DIRECTORY_SIGNATURE_INVALID out
mkdir -p inbox
"$TRMCTL" receive "${as_naptip[@]}" --recipient-key keys/ng-naptip.enc.key --sign-key keys/ng-naptip.sign.key --keys-dir keys \
  --out-dir inbox >out 2>&1; check "receive at NG" 0 $?
cmp -s p0 "inbox/$id.payload"; check "payload crossed both nodes intact" 0 $?
# The path travels back: BG shows NG's delivery receipt and NG-NAPTIP's
# signed acknowledgement, both checked against the signed directory.
wait_state "$id" ACKNOWLEDGED || { echo "FAIL: no acknowledgement at BG"; cat status.out; fail=1; }
"$TRMCTL" status "${as_ngo[@]}" --directory directory.signed --authority-pub keys/authority.sign.pub \
  "$id" >out 2>&1; check "status checks the whole path" 0 $?
contains "delivery receipt from NG" "delivery_receipt: valid, signed by node ng" out
contains "recipient's signed acknowledgement" "acknowledgement: valid, signed by ng-naptip" out

# NG down: messages wait at BG, then arrive once and in order.
kill -TERM "${pids[ng]}"; wait "${pids[ng]}" 2>/dev/null
ids=()
for i in 1 2 3 4 5; do
  "$TRMCTL" case payload --type referral-request --text "reason: \"update $i\"" --out "p$i" >/dev/null
  ids+=("$(send BG-2 "p$i")") || { echo "FAIL: send $i"; fail=1; }
done
"$TRMCTL" status "${as_ngo[@]}" "${ids[4]}" >out 2>&1
contains "queued at BG while NG is down" ": ACCEPTED" out
for _ in $(seq 1 "$(polls 100)"); do grep -q "relay to ng failing" bg.log && break; sleep 0.05; done
contains "BG logs the failing link" "relay to ng failing" bg.log
# The sender sees where its message waits, since when, and why.
"$TRMCTL" status "${as_ngo[@]}" "${ids[4]}" >out 2>&1
contains "status: where it is held and since when" \
  "held: held at the sender's node for node ng since 20" out
contains "status: the link's failure and its error" \
  "the link to ng has failed since 20.*attempts.*last error: RELAY_FAILED.*Nothing is lost" out
# The coordinator sees the link failing, its retry schedule and the backlog.
as_nrm=(--node "127.0.0.1:$bg_port" --ca pki/ca.crt --cert pki/org-bg-nrm.crt --key pki/org-bg-nrm.key)
"$TRMCTL" node status "${as_nrm[@]}" >out 2>&1; check "node status while NG is down" 0 $?
contains "ng failing" "ng: FAILING" out
contains "retry schedule shown" "next attempt" out
contains "backlog shown" "backlog 5 messages" out
contains "link error shown" "last error: RELAY_FAILED: relay to node ng" out
contains "certificate expiry shown" "keys: TLS certificate expires 20" out
contains "overdue deadlines shown" "cases: 0 overdue deadline(s)" out
"$TRMCTL" --json node status "${as_nrm[@]}" >out 2>&1
python3 -c '
import json, sys
peers = {p["node"]: p for p in json.load(open("out"))["peers"]}
ng, it = peers["ng"], peers["it"]
sys.exit(0 if ng["consecutive_failures"] >= 1 and not ng["reachable"] and ng["failed_attempts"] >= 1
         and ng["outbound_queued"] == 5 and it["reachable"] else 1)'
check "node status JSON: NG failing with 5 queued, IT reachable" 0 $?
"$TRMCTL" node status "${as_ngo[@]}" >out 2>&1; check "an NGO may not see node status" 1 $?
contains "coordinator only" NOT_COORDINATOR out
start ng
for i in 0 1 2 3 4; do wait_state "${ids[$i]}" RELAYED || { echo "FAIL: ${ids[$i]} not relayed"; cat status.out; fail=1; }; done
echo "ok: all relayed after NG came back"
contains "BG logs the recovery" "relay to ng recovered" bg.log
"$TRMCTL" node status "${as_nrm[@]}" >out 2>&1
contains "ng reachable again" "ng: reachable" out
contains "backlog drained" "backlog 0 messages" out
"$TRMCTL" --json receive "${as_naptip[@]}" --recipient-key keys/ng-naptip.enc.key --sign-key keys/ng-naptip.sign.key --keys-dir keys \
  --out-dir inbox >out 2>&1; check "receive the backlog" 0 $?
got=$(python3 -c '
import json
for line in open("out"):
    line = line.strip()
    if line.startswith("{"):
        d = json.loads(line)
        for m in d.get("messages", []): print(m["message_id"])')
[ "$got" = "$(printf '%s\n' "${ids[@]}")" ]; check "delivered once each, in order" 0 $?
"$TRMCTL" receive "${as_naptip[@]}" --recipient-key keys/ng-naptip.enc.key --sign-key keys/ng-naptip.sign.key --keys-dir keys \
  --out-dir inbox >out 2>&1
contains "nothing delivered twice" "no messages" out

# An impostor on NG's address with IT's certificate gets nothing.
kill -TERM "${pids[ng]}"; wait "${pids[ng]}" 2>/dev/null
node_config ng "$ng_port" it
python3 - ng.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["log_format"] = "json"; c["log_messages"] = True
json.dump(c, open(sys.argv[1], "w"))
PY
: >ng.log; start ng
"$TRMCTL" case payload --type referral-request --text 'reason: "secret"' --out p6 >/dev/null
id6=$(send BG-3 p6)
for _ in $(seq 1 "$(polls 200)"); do grep -q PEER_IDENTITY_MISMATCH bg.log && break; sleep 0.05; done
contains "impostor refused by identity" "PEER_IDENTITY_MISMATCH" bg.log
"$TRMCTL" status "${as_ngo[@]}" "$id6" >out 2>&1
contains "still waiting at BG" ": ACCEPTED" out
# BG checks who answers before it sends anything: the impostor never holds
# the envelope (its log names every message it stores).
grep -q "$id6" ng.log; check "the impostor never received the envelope" 1 $?

for n in bg ng it; do kill -TERM "${pids[$n]}"; wait "${pids[$n]}"; check "SIGTERM $n" 0 $?; unset "pids[$n]"; done
exit $fail
