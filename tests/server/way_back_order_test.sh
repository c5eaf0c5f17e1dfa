#!/usr/bin/env bash
# The way back converges whatever the order (issue 15 section 5,
# docs/protocol.md section 15.2). BG relays bg-ngo's referral to NG through
# a proxy (hold_proxy.py) that holds NG's answer after NG stored the batch.
# Three orders, each on the same two real nodes over mutual TLS:
#   1. NG is killed before its answer left: BG never hears it.
#   2. BG is killed after NG stored the batch, and ng-naptip acknowledges
#      while BG is down.
#   3. No crash: the answer is slow, and NG's notices (delivered,
#      acknowledged) reach BG first; BG answers MESSAGE_RELAY_PENDING.
# After each crash BG relays the message again and the proxy holds that
# answer too, so NG's notices always reach BG before BG has recorded the
# relay. In each, the sender's status at BG must end ACKNOWLEDGED, with the
# delivery receipt and the signed acknowledgement valid against the signed
# directory. With MESSAGE_RELAY_PENDING made final (the defect), all three
# stay RELAYED.
# Every step waits for the event itself (a log line), never a fixed time.
set -u
source "$(dirname "$0")/federation_test_lib.sh" "$1" "$2"

# NG listens on ng_real; the directory's endpoint for NG ($ng_port) is the
# proxy, so BG's relay goes through it and NG's notices to BG do not.
ng_real=$(free_port)
node_config bg "$bg_port" bg
node_config ng "$ng_real" ng
for n in bg ng; do
  python3 - "$n.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["log_format"] = "json"; c["log_messages"] = True
json.dump(c, open(sys.argv[1], "w"))
PY
done

as_ngo=(--node "127.0.0.1:$bg_port" --ca pki/ca.crt --cert pki/org-bg-ngo.crt --key pki/org-bg-ngo.key)
as_naptip=(--node "127.0.0.1:$ng_real" --ca pki/ca.crt --cert pki/org-ng-naptip.crt --key pki/org-ng-naptip.key)
trust=(--directory directory.signed --authority-pub keys/authority.sign.pub)
# A payload of 40 KB, so that the batch (not the headers before it) is what
# passes the proxy's 12 KB mark.
payload_file payload referral-request --pad 40000

# lines FILE PATTERN: how many lines of FILE match (0 when there is no FILE).
lines() { cat "$1" 2>/dev/null | grep -c -- "$2"; }
# wait_for FILE PATTERN N: until FILE has at least N lines matching PATTERN.
wait_for() {
  for _ in $(seq 1 "$(polls 400)"); do
    [ "$(lines "$1" "$2")" -ge "$3" ] && return 0
    sleep 0.05
  done
  echo "FAIL: no '$2' (#$3) in $1:"; tail -5 "$1"; cat proxy.err; return 1
}
send() {  # send CASE: prints the message id
  "$TRMCTL" --json send "${as_ngo[@]}" --type referral-request --case "$1" --from bg-ngo@bg \
    --to ng-naptip@ng --sign-key keys/bg-ngo.sign.key --recipient-pub keys/ng-naptip.enc.pub \
    --in payload >out 2>&1 && python3 -c 'import json; print(json.load(open("out"))["message_id"])'
}
receive_at_ng() {  # receives and acknowledges (signed) everything for ng-naptip
  "$TRMCTL" --json receive "${as_naptip[@]}" --recipient-key keys/ng-naptip.enc.key \
    --sign-key keys/ng-naptip.sign.key --keys-dir keys --out-dir inbox --wait-ms 2000 >recv.out 2>&1
}
# received_at_ng ID N: NG's log has N "message.received" lines for ID.
stored_at_ng() { wait_for ng.log "\"event\":\"message.received\".*\"trace_id\":\"$1\"" "$2"; }
# acknowledged ID: the sender's status at BG ends ACKNOWLEDGED, evidence valid.
acknowledged() {
  for _ in $(seq 1 "$(polls 600)"); do
    "$TRMCTL" status "${as_ngo[@]}" "${trust[@]}" "$1" >st.out 2>&1
    grep -q ": ACKNOWLEDGED" st.out && break
    sleep 0.05
  done
  grep -q ": ACKNOWLEDGED" st.out && grep -q "acknowledgement: valid, signed by ng-naptip" st.out &&
    grep -q "delivery_receipt: valid, signed by node ng" st.out && return 0
  echo "status of $1 at BG:"; cat st.out; return 1
}
arm() {  # the proxy holds the answer to the next batch
  local armed; armed=$(lines proxy.log '^armed')
  kill -USR1 "${pids[proxy]}"
  wait_for proxy.log '^armed' $((armed + 1))
}
hold_answer() {  # hold_answer CASE: arms the proxy, sends; sets id
  local holding; holding=$(lines proxy.log '^holding')
  arm || return 1
  id=$(send "$1") || { cat out; return 1; }
  wait_for proxy.log '^holding' $((holding + 1)) || return 1
  stored_at_ng "$id" 1
}
kill_holding() {  # kill_holding NODE: SIGKILL; the proxy drops the held answer
  local dropped; dropped=$(lines proxy.log '^dropped')
  kill -9 "${pids[$1]}"; wait "${pids[$1]}" 2>/dev/null
  wait_for proxy.log '^dropped' $((dropped + 1))
}
# early_notice_then_release STEP ID [PENDING]: ng-naptip receives and
# acknowledges ID (unless PENDING is given: it did already, and NG's log had
# PENDING MESSAGE_RELAY_PENDING lines before the notice could reach BG)
# while NG's answer is held; NG's notice reaches BG first and BG asks for it
# again (MESSAGE_RELAY_PENDING, docs/protocol.md section 15.2); then the
# answer is released and the sender's status must end ACKNOWLEDGED with
# valid evidence. NG logs a relay failure's reason only when it changes, so
# the count is taken before the event can happen.
early_notice_then_release() {
  local pending
  if [ -n "${3:-}" ]; then
    pending=$3
  else
    pending=$(lines ng.log MESSAGE_RELAY_PENDING)
    receive_at_ng; contains "$1: ng-naptip received and acknowledged it" "$2" recv.out
  fi
  wait_for ng.log MESSAGE_RELAY_PENDING $((pending + 1))
  check "$1: BG answered the early notice MESSAGE_RELAY_PENDING, to be retried" 0 $?
  local released; released=$(lines proxy.log '^released')
  kill -USR2 "${pids[proxy]}"
  wait_for proxy.log '^released' $((released + 1)); check "$1: the held answer released" 0 $?
  acknowledged "$2"; check "$1: the sender's status ends ACKNOWLEDGED, evidence valid" 0 $?
}
mkdir -p inbox
python3 "$HERE/hold_proxy.py" "$ng_port" "$ng_real" proxy.log 2>proxy.err &
pids[proxy]=$!
wait_for proxy.log "^listening" 1 || exit 1
start bg; start ng

# 1. NG stores the batch and dies before its answer leaves. BG relays it
# again to the restarted NG, whose answer is held once more while
# ng-naptip acknowledges: NG's notices reach BG before any answer did.
hold_answer ORDER-1; rc=$?
check "1: NG stored the batch, its answer held" 0 $rc
[ $rc = 0 ] || exit 1
id1=$id
kill_holding ng; check "1: the answer never left NG" 0 $?
arm
start ng
stored_at_ng "$id1" 2; check "1: BG relayed it again after NG's restart" 0 $?
contains "1: NG answered the duplicate" "\"trace_id\":\"$id1\".*\"duplicate\":\"yes\"" ng.log
early_notice_then_release 1 "$id1"

# 2. NG stores the batch; BG dies before the answer reaches it, and stays
# down while ng-naptip acknowledges. The restarted BG relays it again and
# that answer is held too: NG's notices reach BG first.
hold_answer ORDER-2; rc=$?
check "2: NG stored the batch, its answer held" 0 $rc
[ $rc = 0 ] || exit 1
id2=$id
kill_holding bg; check "2: BG died without the answer" 0 $?
receive_at_ng; contains "2: ng-naptip received and acknowledged it while BG was down" "$id2" recv.out
arm
# NG's notice may reach the restarted BG before BG has relayed id2 again.
pending2=$(lines ng.log MESSAGE_RELAY_PENDING)
start bg
stored_at_ng "$id2" 2; check "2: BG, restarted, relayed it again" 0 $?
early_notice_then_release 2 "$id2" "$pending2"

# 3. No crash: the answer is slow and the notices overtake it.
hold_answer ORDER-3; rc=$?
check "3: NG stored the batch, its answer held" 0 $rc
[ $rc = 0 ] || exit 1
early_notice_then_release 3 "$id"

# Nothing left to repair at either node: each message is out of BG's queue.
for i in "$id1" "$id2" "$id"; do
  "$TRMCTL" status "${as_ngo[@]}" "$i" >st.out 2>&1
  contains "BG recorded the relay of $i" "relayed_to: ng" st.out
done
exit $fail
