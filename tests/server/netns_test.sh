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
# Last, ten days without NG on the nodes' test clock (trm-broker-testclock):
# messages wait both ways within their lifetimes, a contingency is declared,
# deadlines follow the policy, and nothing is lost or repeated.
# Usage: netns_test.sh TRM_BROKER TRMCTL TRM_BROKER_TESTCLOCK
set -u
CHECKS=$(cd "$(dirname "$0")/.." && pwd)/checks.sh
BROKER=$(readlink -f "$1"); TRMCTL=$(readlink -f "$2"); CLOCK_BROKER=$(readlink -f "$3")
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
for o in bg-ngo ng-naptip bg-nrm; do bash "$PKI" pki org $o >/dev/null; done
mkdir keys inbox
for o in authority bg-node ng-node it-node bg-ngo ng-naptip bg-nrm; do "$TRMCTL" keygen --org $o --dir keys >/dev/null; done
python3 - "${addr[bg]}" "${addr[ng]}" "${addr[it]}" <<'PY'
import json, sys
bg, ng, it = sys.argv[1:4]
def node(i, a):
    return {"id": i, "country": i.upper(), "endpoint": a + ":7400", "tls_identity": "trm://node/" + i,
            "signing_keys": [{"public_key_file": "keys/%s-node.sign.pub" % i}]}
def org(i, home, role="NGO"):
    return {"id": i, "home_node": home, "roles": [role], "tls_identity": "trm://org/" + i,
            "signing_keys": [{"public_key_file": "keys/%s.sign.pub" % i}],
            "encryption_keys": [{"public_key_file": "keys/%s.enc.pub" % i}]}
json.dump({"federation": "netns-test", "serial": 1,
           "nodes": [node("bg", bg), node("ng", ng), node("it", it)],
           "organisations": [org("bg-ngo", "bg"), org("ng-naptip", "ng"),
                             org("bg-nrm", "bg", "NATIONAL_COORDINATOR")]}, open("spec.json", "w"))
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
s["policy"] = {"version": 1,
               "pairs": {"BG>NG": {"referral_ack": "12s"}, "NG>BG": {"referral_ack": "48h"}},
               "contingency": {"failed_link": "pause", "deadline_extension_seconds": 86400,
                               "lifetime_extension_seconds": 2592000}}
json.dump(s, open("spec2.json", "w"))
for n in ("bg", "ng", "it"):
    c = json.load(open(n + ".json"))
    c["case_rules"] = {"enforce": True}
    c.pop("_case_rules")
    json.dump(c, open(n + ".json", "w"))
PY
"$TRMCTL" directory sign --in spec2.json --authority-key keys/authority.sign.key --out directory.signed >/dev/null
# The test build of the node: its time is the wall clock plus clock.offset.
echo 0 >clock.offset
for n in bg ng it; do
  TRM_TEST_CLOCK_FILE=$work/clock.offset \
    nsenter --net="/run/netns/trm-$n-$tag" "$CLOCK_BROKER" --config "$n.json" >>"$n.log" 2>&1 &
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
step_case() {  # step_case CASE FROM TO TYPE [flags...]: a step of CASE
  local case=$1 from=$2 to=$3 type=$4; shift 4
  payload_file step.bin "$type" "$@" &&
    as_org "$from" send --type "$type" --case "$case" --from "$from@${from%%-*}" --to "$to@${to%%-*}" \
      --sign-key "keys/$from.sign.key" --recipient-pub "keys/$to.enc.pub" --in step.bin "$@" >out 2>&1
}
step() { step_case BG-10 "$@"; }
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

# Ten days without NG. NG's link goes down; BG's coordinator declares a
# contingency for NG; messages wait both ways, with lifetimes of 20 days
# (one of a day, one of 35 days, which only the contingency allows). Then
# the federation lives ten days in a few seconds of the test clock, a day at
# a time, and the link comes back.
sent_id() { sed -n 's/^sent [A-Z_]* \([0-9a-f]*\): .*/\1/p' out | head -1; }
wait_for() {  # wait_for NAME FILE NEEDLE CMD...: runs CMD into FILE until FILE holds NEEDLE
  local name=$1 file=$2 needle=$3; shift 3
  for _ in $(seq 1 "$(polls 300)"); do
    "$@" >"$file" 2>&1; grep -q -- "$needle" "$file" && { echo "ok: $name"; return; }; sleep 0.1
  done
  echo "FAIL: $name: '$needle' not in:"; cat "$file"; fail=1
}
ip -n "$sw" link set "s-ng-$tag" down
as_org bg-nrm --json contingency declare --from bg-nrm@bg --country NG \
  --reason "NG's node cut off" --sign-key keys/bg-nrm.sign.key >decl.json 2>&1
check "BG's coordinator declares a contingency for NG" 0 $?
cid=$(python3 -c 'import json; print(json.load(open("decl.json"))["contingencies"][0]["id"])' 2>/dev/null)
bg_ids=(); ng_ids=()
step_case BG-11 bg-ngo ng-naptip consent-record --consent C-BG-11 --outcome consent-granted --expires-in 480h
check "BG-11: consent queued for NG" 0 $?; bg_ids+=("$(sent_id)")
step_case BG-11 bg-ngo ng-naptip referral-request --consent C-BG-11 --expires-in 480h
check "BG-11: referral queued for NG" 0 $?; bg_ids+=("$(sent_id)")
step_case BG-12 bg-ngo ng-naptip consent-record --consent C-BG-12 --outcome consent-granted --expires-in 840h
check "BG-12: a 35-day lifetime, allowed while the contingency holds" 0 $?; bg_ids+=("$(sent_id)")
step_case BG-13 bg-ngo ng-naptip consent-record --consent C-BG-13 --outcome consent-granted --expires-in 24h
check "BG-13: a one-day lifetime" 0 $?; short=$(sent_id)
step_case NG-1 ng-naptip bg-ngo consent-record --consent C-NG-1 --outcome consent-granted --expires-in 480h
check "NG-1: consent queued at NG for BG" 0 $?; ng_ids+=("$(sent_id)")
step_case NG-1 ng-naptip bg-ngo referral-request --consent C-NG-1 --expires-in 480h
check "NG-1: referral queued at NG for BG" 0 $?; ng_ids+=("$(sent_id)")
wait_for "BG-11's deadline passes a day later under the contingency" show.out \
  "extended by 24h under contingency $cid" as_org bg-ngo case show BG-11
for day in $(seq 1 10); do
  echo $((day * 86400)) >clock.offset
  case $day in
    2) wait_for "day 2: the one-day message is a dead letter at BG" st.out EXPIRED as_org bg-ngo status "$short"
       wait_for "day 2: past its extended due, BG-11's deadline pauses at BG" show.out \
         "PAUSED paused since .*: node ng cannot be reached" as_org bg-ngo case show BG-11 ;;
    3) wait_for "day 3: the acknowledgement BG owes for NG-1 pauses at NG" show.out \
         "PAUSED paused since .*: node bg cannot be reached" as_org ng-naptip case show NG-1 ;;
  esac
done
for id in "${bg_ids[@]}"; do
  [ "$(as_org bg-ngo status "$id" 2>&1 | grep -c ACCEPTED)" -ge 1 ]
  check "day 10: $id still waits at BG" 0 $?
done
grep -q "DEADLINE_MISSED case \(BG-11\|NG-1\)" bg.log ng.log; check "nobody was blamed for ten days" 1 $?
resumed_bg=$(grep -c "the link to node ng is back after" bg.log)
ip -n "$sw" link set "s-ng-$tag" up
for id in "${bg_ids[@]}"; do wait_for "relayed to NG after ten days: $id" st.out RELAYED as_org bg-ngo status "$id"; done
for id in "${ng_ids[@]}"; do wait_for "relayed to BG after ten days: $id" st.out RELAYED as_org ng-naptip status "$id"; done
as_org bg-ngo status "$short" >st.out 2>&1; contains "the expired one stays a dead letter" EXPIRED st.out
wait_for "NG has BG-11's referral" show.out REFERRAL_ACK_DUE as_org ng-naptip case show BG-11
wait_for "BG has NG-1's referral" show.out REFERRAL_ACK_DUE as_org bg-ngo case show NG-1
# After ten days down, each node looks at a paused deadline again a minute
# later (a tenth of the outage, at most a minute): two more minutes pass.
echo $((10 * 86400 + 120)) >clock.offset
for _ in $(seq 1 "$(polls 300)"); do
  [ "$(grep -c "the link to node ng is back after" bg.log)" -gt "$resumed_bg" ] &&
    grep -q "the link to node bg is back after" ng.log && break
  sleep 0.1
done
[ "$(grep -c "the link to node ng is back after" bg.log)" -gt "$resumed_bg" ]
check "BG-11's deadline runs on at BG, with the time it had left" 0 $?
grep -q "the link to node bg is back after" ng.log; check "NG-1's deadline runs on at NG" 0 $?
step_case BG-11 ng-naptip bg-ngo referral-ack --outcome referral-accepted --expires-in 480h
check "NG answers BG-11" 0 $?
step_case NG-1 bg-ngo ng-naptip referral-ack --outcome referral-accepted --expires-in 480h
check "BG answers NG-1" 0 $?
met() {  # met ORG CASE: the case's acknowledgement deadline is closed at ORG's node
  for _ in $(seq 1 "$(polls 300)"); do
    as_org "$1" --json case show "$2" >show.json 2>&1
    grep -q '"ok":true' show.json && ! grep -q REFERRAL_ACK_DUE show.json && return 0; sleep 0.1
  done
  cat show.json; return 1
}
met bg-ngo BG-11; check "the answer met BG-11's deadline at BG" 0 $?
met ng-naptip NG-1; check "the answer met NG-1's deadline at NG" 0 $?
grep -q "DEADLINE_MISSED case \(BG-11\|NG-1\)" bg.log ng.log; check "and neither was ever missed" 1 $?
wait_log "NG learned of the contingency when the link came back" ng.log "contingency $cid for the country NG"
as_org bg-nrm contingency end "$cid" --sign-key keys/bg-nrm.sign.key >end.out 2>&1
check "BG's coordinator ends it" 0 $?
wait_log "NG learns the end" ng.log "contingency $cid for the country NG .* to 20"
trail() {  # trail ORG CASE|--kind K: ORG's trail at its node
  local org=$1; shift
  as_org "$org" audit trail --directory directory.signed --authority-pub keys/authority.sign.pub "$@"
}
trail ng-naptip --case BG-11 >trail.out 2>&1; check "NG's trail of BG-11" 0 $?
[ "$(grep -c MESSAGE_RECEIVED trail.out)" = 2 ]; check "each of BG-11's two messages received once at NG" 0 $?
trail bg-ngo --case NG-1 >trail.out 2>&1; check "BG's trail of NG-1" 0 $?
[ "$(grep -c MESSAGE_RECEIVED trail.out)" = 2 ]; check "each of NG-1's two messages received once at BG" 0 $?
trail bg-ngo --case BG-11 >trail.out 2>&1
for k in DEADLINE_EXTENDED DEADLINE_PAUSED DEADLINE_RESUMED; do contains "BG-11's trail at BG has $k" $k trail.out; done
trail bg-nrm --org bg-nrm >trail.out 2>&1
for k in CONTINGENCY_DECLARED CONTINGENCY_ENDED; do contains "BG's audit log has $k" $k trail.out; done

for n in bg ng it; do kill -TERM "${pids[$n]}"; wait "${pids[$n]}"; check "SIGTERM $n" 0 $?; unset "pids[$n]"; done
exit $fail
