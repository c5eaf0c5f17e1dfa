#!/usr/bin/env bash
# Three nodes as three hosts: BG, NG and IT each in its own network
# namespace, joined through a fourth namespace that acts as a switch (veth
# pairs and a bridge), over mutual TLS. Cuts NG's link (ip link set down),
# checks that messages wait at BG and arrive when the link is back, then
# runs traffic over a lossy, slow link (tc netem 20% loss, 50 ms delay);
# then, with case rules on, cuts it again while NG owes an acknowledgement,
# which pauses under the federation's failed_link policy and is met.
# Needs root and network namespaces; exits 77 (ctest: skipped) with the
# reason when the machine does not allow them.
# Usage: netns_test.sh TRM_BROKER TRMCTL
set -u
CHECKS=$(cd "$(dirname "$0")/.." && pwd)/checks.sh
BROKER=$(readlink -f "$1"); TRMCTL=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
PKI=$HERE/../../deploy/pki/make-pki.sh
tag=t$$
sw=trm-sw-$tag
if ! err=$(ip netns add "$sw" 2>&1); then
  echo "SKIPPED: cannot create network namespaces here ($err); run as root on a machine that allows 'ip netns add'"
  exit 77
fi
work=$(mktemp -d)
declare -A pids
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for n in bg ng it; do ip netns del "trm-$n-$tag" 2>/dev/null; done
  ip netns del "$sw" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
source "$CHECKS"

# The network: a bridge in the switch namespace, one veth pair per host.
ip -n "$sw" link add br0 type bridge && ip -n "$sw" link set br0 up && ip -n "$sw" link set lo up
declare -A addr=([bg]=10.77.0.1 [ng]=10.77.0.2 [it]=10.77.0.3)
for n in bg ng it; do
  ns=trm-$n-$tag
  ip netns add "$ns"
  ip link add "h-$n-$tag" type veth peer name "s-$n-$tag"
  ip link set "h-$n-$tag" netns "$ns"
  ip link set "s-$n-$tag" netns "$sw"
  ip -n "$ns" link set "h-$n-$tag" name eth0
  ip -n "$ns" addr add "${addr[$n]}/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  ip -n "$sw" link set "s-$n-$tag" master br0
  ip -n "$sw" link set "s-$n-$tag" up
done
in_ns() { local n=$1; shift; ip netns exec "trm-$n-$tag" "$@"; }

bash "$PKI" pki ca "netns test CA" >/dev/null
for n in bg ng it; do bash "$PKI" pki node $n "${addr[$n]}" >/dev/null; done
for o in bg-ngo ng-naptip; do bash "$PKI" pki org $o >/dev/null; done
mkdir keys inbox
for o in authority bg-node ng-node it-node bg-ngo ng-naptip; do "$TRMCTL" keygen --org $o --dir keys >/dev/null; done
python3 - "${addr[bg]}" "${addr[ng]}" "${addr[it]}" <<'PY'
import json, sys
bg, ng, it = sys.argv[1:4]
def node(i, a):
    return {"id": i, "country": i.upper(), "endpoint": a + ":7400", "tls_identity": "trm://node/" + i,
            "signing_keys": [{"public_key_file": "keys/%s-node.sign.pub" % i}]}
def org(i, home):
    return {"id": i, "home_node": home, "roles": ["NGO"], "tls_identity": "trm://org/" + i,
            "signing_keys": [{"public_key_file": "keys/%s.sign.pub" % i}],
            "encryption_keys": [{"public_key_file": "keys/%s.enc.pub" % i}]}
json.dump({"federation": "netns-test", "serial": 1,
           "nodes": [node("bg", bg), node("ng", ng), node("it", it)],
           "organisations": [org("bg-ngo", "bg"), org("ng-naptip", "ng")]}, open("spec.json", "w"))
PY
"$TRMCTL" directory sign --in spec.json --authority-key keys/authority.sign.key --out directory.signed >/dev/null
for n in bg ng it; do
  cat >"$n.json" <<JSON
{"node_id": "$n", "listen": "${addr[$n]}:7400", "data_dir": "data-$n", "node_signing_key": "keys/$n-node.sign.key",
 "_case_rules": "transport test: the case rules have their own tests (cases_test.sh, return_test.sh)",
 "case_rules": {"enforce": false},
 "directory": "directory.signed", "authority_public_key": "keys/authority.sign.pub",
 "tls": {"ca": "pki/ca.crt", "cert": "pki/node-$n.crt", "key": "pki/node-$n.key"},
 "relay": {"max_backoff_seconds": 1, "breaker_open_seconds": 2, "call_timeout_seconds": 5}}
JSON
  # nsenter execs the node itself, so that signals reach it.
  nsenter --net="/run/netns/trm-$n-$tag" "$BROKER" --config "$n.json" >"$n.log" 2>&1 &
  pids[$n]=$!
done
for n in bg ng it; do
  for _ in $(seq 1 "$(polls 100)"); do grep -q "serving on" "$n.log" && break; sleep 0.05; done
  contains "node $n serves in its namespace" "serving on ${addr[$n]}:7400" "$n.log"
done
# A node that did not start fails the test now, with its log, rather than
# every later step after its own wait.
[ "$fail" = 0 ] || { tail -n 5 bg.log ng.log it.log; exit 1; }

send() {  # send FILE: from bg-ngo (in BG's namespace) to ng-naptip; prints the id
  in_ns bg "$TRMCTL" --json send --node "${addr[bg]}:7400" --ca pki/ca.crt --cert pki/org-bg-ngo.crt \
    --key pki/org-bg-ngo.key --type referral-request --case BG-9 --from bg-ngo@bg --to ng-naptip@ng \
    --sign-key keys/bg-ngo.sign.key --recipient-pub keys/ng-naptip.enc.pub --in "$1" >out 2>&1 &&
    python3 -c 'import json; print(json.load(open("out"))["message_id"])'
}
state() {  # state ID
  in_ns bg "$TRMCTL" status --node "${addr[bg]}:7400" --ca pki/ca.crt --cert pki/org-bg-ngo.crt \
    --key pki/org-bg-ngo.key "$1" 2>&1 | sed -n 's/^message [0-9a-f]*: //p'
}
wait_relayed() {  # wait_relayed ID... within 30 s
  for id in "$@"; do
    for _ in $(seq 1 "$(polls 300)"); do [ "$(state "$id")" = RELAYED ] && continue 2; sleep 0.1; done
    return 1
  done
}
receive_count() {
  in_ns ng "$TRMCTL" --json receive --node "${addr[ng]}:7400" --ca pki/ca.crt --cert pki/org-ng-naptip.crt \
    --key pki/org-ng-naptip.key --recipient-key keys/ng-naptip.enc.key --sign-key keys/ng-naptip.sign.key --keys-dir keys --out-dir inbox \
    --max 1000 >recv.out 2>&1
  python3 -c 'import json; print(len(json.load(open("recv.out")).get("messages", [])))'
}

"$TRMCTL" case payload --type referral-request --text 'reason: "first"' --out p0 >/dev/null
id0=$(send p0); check "send across hosts" 0 $?
wait_relayed "$id0"; check "relayed BG -> NG across the bridge" 0 $?

# Cut NG off.
failures=$(grep -c "relay to ng failing" bg.log || true)
ip -n "$sw" link set "s-ng-$tag" down
ids=()
for i in 1 2 3; do "$TRMCTL" case payload --type referral-request --text "reason: \"during the cut $i\"" --out "p$i" >/dev/null; ids+=("$(send "p$i")"); done
# BG has tried NG and failed at least once (the event), and still holds them.
for _ in $(seq 1 "$(polls 200)"); do
  [ "$(grep -c "relay to ng failing" bg.log || true)" -gt "$failures" ] && break; sleep 0.05
done
[ "$(grep -c "relay to ng failing" bg.log || true)" -gt "$failures" ]
check "BG tried NG across the cut and failed" 0 $?
[ "$(state "${ids[2]}")" = ACCEPTED ]; check "waiting at BG while NG's link is down" 0 $?
ip -n "$sw" link set "s-ng-$tag" up
wait_relayed "${ids[@]}"; check "relayed once the link is back" 0 $?

# A lossy, slow link, when the kernel has netem.
expected=4
if err=$(ip netns exec "$sw" tc qdisc add dev "s-ng-$tag" root netem delay 50ms loss 20% 2>&1); then
  ids=()
  for i in 4 5 6 7 8; do "$TRMCTL" case payload --type referral-request --text "reason: \"lossy $i\"" --out "p$i" >/dev/null; ids+=("$(send "p$i")"); done
  wait_relayed "${ids[@]}"; check "relayed over 20% loss and 50 ms delay" 0 $?
  ip netns exec "$sw" tc qdisc del dev "s-ng-$tag" root
  expected=9
else
  echo "SKIPPED (lossy link only): this kernel has no netem queueing discipline ($err)"
fi
[ "$(receive_count)" = "$expected" ]; check "NG's organisation receives all $expected, once" 0 $?
[ "$(receive_count)" = 0 ]; check "nothing twice" 0 $?

for n in bg ng it; do kill -TERM "${pids[$n]}"; wait "${pids[$n]}"; check "SIGTERM $n" 0 $?; unset "pids[$n]"; done

# Deadlines across the real cut. The nodes start again with their case rules
# on, under a federation policy (directory serial 2) whose failed_link is
# "pause" and that gives NG 12 s to acknowledge a referral from BG (more than
# one relay call timeout, 5 s, so that BG knows the link failed by then).
# NG's link goes down before BG's consent and referral: the acknowledgement
# NG owes pauses at BG instead of being missed, runs on when the link is
# back, and NG's answer meets it.
python3 - <<'PY'
import json
s = json.load(open("spec.json"))
s["serial"] = 2
s["policy"] = {"version": 1, "pairs": {"BG>NG": {"referral_ack": "12s"}},
               "contingency": {"failed_link": "pause"}}
json.dump(s, open("spec2.json", "w"))
for n in ("bg", "ng", "it"):
    c = json.load(open(n + ".json"))
    c["case_rules"] = {"enforce": True}
    c.pop("_case_rules")
    json.dump(c, open(n + ".json", "w"))
PY
"$TRMCTL" directory sign --in spec2.json --authority-key keys/authority.sign.key --out directory.signed >/dev/null
for n in bg ng it; do
  nsenter --net="/run/netns/trm-$n-$tag" "$BROKER" --config "$n.json" >>"$n.log" 2>&1 &
  pids[$n]=$!
done
for n in bg ng it; do
  for _ in $(seq 1 "$(polls 100)"); do [ "$(grep -c "serving on" "$n.log")" -ge 2 ] && break; sleep 0.05; done
  [ "$(grep -c "serving on" "$n.log")" -ge 2 ]; check "node $n serves again, with its case rules" 0 $?
done
wait_log() {  # wait_log NAME FILE NEEDLE (up to 60 s)
  for _ in $(seq 1 "$(polls 600)"); do grep -q -- "$3" "$2" && { echo "ok: $1"; return; }; sleep 0.1; done
  echo "FAIL: $1: '$3' not in $2:"; tail -n 30 "$2"; fail=1
}
as_org() {  # as_org ORG trmctl-args...: in the organisation's namespace, at its node
  local org=$1 n=${1%%-*}; shift
  in_ns "$n" "$TRMCTL" "$@" --node "${addr[$n]}:7400" --ca pki/ca.crt --cert "pki/org-$org.crt" \
    --key "pki/org-$org.key"
}
step() {  # step FROM TO TYPE [flags...]: a step of case BG-10
  local from=$1 to=$2 type=$3; shift 3
  payload_file step.bin "$type" "$@" &&
    as_org "$from" send --type "$type" --case BG-10 --from "$from@${from%%-*}" --to "$to@${to%%-*}" \
      --sign-key "keys/$from.sign.key" --recipient-pub "keys/$to.enc.pub" --in step.bin "$@" >out 2>&1
}
wait_log "BG applies the policy" bg.log "federation policy version 1"
ip -n "$sw" link set "s-ng-$tag" down
step bg-ngo ng-naptip consent-record --consent C-BG-10 --outcome consent-granted
check "BG-10: consent, with NG cut off" 0 $?
step bg-ngo ng-naptip referral-request --consent C-BG-10; check "BG-10: referral" 0 $?
wait_log "the acknowledgement NG owes pauses at BG" bg.log \
  "REFERRAL_ACK_DUE owed by ng-naptip to bg-ngo, due .*: node ng unreachable since .*; paused with"
as_org bg-ngo case show BG-10 >show.out 2>&1
contains "case show says it waits for the link" "PAUSED paused since .*: node ng cannot be reached" show.out
ip -n "$sw" link set "s-ng-$tag" up
wait_log "the link is back: the deadline runs on" bg.log "the link to node ng is back after"
for _ in $(seq 1 "$(polls 300)"); do
  as_org ng-naptip case show BG-10 >show.out 2>&1 && grep -q REFERRAL_ACK_DUE show.out && break; sleep 0.1
done
contains "the referral reached NG" REFERRAL_ACK_DUE show.out
step ng-naptip bg-ngo referral-ack --outcome referral-accepted; check "NG answers" 0 $?
for _ in $(seq 1 "$(polls 300)"); do
  as_org bg-ngo --json case show BG-10 >show.json 2>&1
  grep -q '"ok":true' show.json && ! grep -q REFERRAL_ACK_DUE show.json && break; sleep 0.1
done
grep -q '"ok":true' show.json && ! grep -q REFERRAL_ACK_DUE show.json
check "NG's answer met the deadline at BG" 0 $?
grep -q "DEADLINE_MISSED case BG-10" bg.log ng.log; check "and it was never missed" 1 $?

for n in bg ng it; do kill -TERM "${pids[$n]}"; wait "${pids[$n]}"; check "SIGTERM $n" 0 $?; unset "pids[$n]"; done
exit $fail
