#!/usr/bin/env bash
# The console on two real nodes (BG, NG) over mutual TLS, in headless
# Chromium (tests/client/console_federation_check.py): BG's case manager
# and NG's receiving organisation take a whole return through their
# browsers, each on their own agent; a step the rules refuse shows the
# rule's text; NG's coordinator reads the node page; the auditor's page at
# bg-ngo's agent (with the auditor grevio's certificate, every node in its
# scope) shows every proof verified, and its bundle verifies offline with
# trmctl. Then NG's history is rewritten (its log lost, the node started
# again) and the auditor's page turns to failed for NG. Before that, NG's
# coordinator reads the statistics page, with five referrals BG>NG in.
#   console_federation_test.sh TRM_BROKER TRMCTL TRM_AGENT
source "$(dirname "$0")/agent_federation_setup.sh" "$@"

add_user() {  # add_user ORG NAME ROLE
  echo "$2's long password" | "$AGENT" user add --users "$1/users.json" --name "$2" \
    --role "$3" --password-stdin >/dev/null 2>&1
  check "a $3 $2 at $1" 0 $?
}
add_user bg-ngo bella caseworker
add_user bg-ngo audrey auditor
add_user ng-naptip nadia caseworker
add_user ng-naptip nora coordinator
python3 - bg-ngo/agent.json "$bg_port" "$ng_port" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["audit"] = {"cert": "../pki/auditor-grevio.crt", "key": "../pki/auditor-grevio.key",
              "nodes": [{"node": "bg", "address": "127.0.0.1:" + sys.argv[2]},
                        {"node": "ng", "address": "127.0.0.1:" + sys.argv[3]}]}
json.dump(c, open(sys.argv[1], "w"))
PY
"$AGENT" --config bg-ngo/agent.json --check-config >out 2>&1
check "--check-config with an audit scope" 0 $?
start_agents bg-ngo ng-naptip

mkdir -p shots
/usr/bin/python3 "$CLIENT_TESTS/console_federation_check.py" return \
  "$(cat bg-ngo/url)" "$(cat ng-naptip/url)" "$(polls 300)" shots
check "the return through two consoles (console_federation_check.py return)" 0 $?
"$TRMCTL" audit verify shots/bundle-ng.json --directory directory.signed \
  --authority-pub keys/authority.sign.pub >out 2>&1
check "the bundle downloaded from the auditor's page verifies offline" 0 $?
contains "every entry in NG's log" "verified: " out

# Four more referrals BG>NG, each acknowledged by NG: five this month, the
# threshold, so NG's statistics page draws them.
as_org() {  # as_org ORG trmctl-args...: trmctl against ORG's node
  local org=$1; shift; local n=${org%%-*}; local pv=${n}_port
  "$TRMCTL" "$@" --node "127.0.0.1:${!pv}" --ca pki/ca.crt --cert "pki/org-$org.crt" \
    --key "pki/org-$org.key"
}
send_as() {  # send_as FROM TO CASE TYPE [flags...]
  local from=$1 to=$2 case=$3 type=$4; shift 4
  payload_file payload "$type" "$@"
  as_org "$from" send --type "$type" --case "$case" --from "$from@${from%%-*}" \
    --to "$to@${to%%-*}" --sign-key "keys/$from.sign.key" \
    --recipient-pub "keys/$to.enc.pub" --in payload "$@" >out 2>&1
}
for i in 1 2 3 4; do
  send_as bg-ngo ng-naptip BG-2026-S$i consent-record --consent C-S$i --outcome consent-granted &&
    send_as bg-ngo ng-naptip BG-2026-S$i referral-request --consent C-S$i
  check "referral S$i" 0 $?
  for _ in $(seq 1 "$(polls 100)"); do
    send_as ng-naptip bg-ngo BG-2026-S$i referral-ack --outcome referral-accepted && break
    sleep 0.1
  done
  check "NG acknowledges S$i (once the referral is there)" 0 $?
done
/usr/bin/python3 "$CLIENT_TESTS/console_federation_check.py" stats \
  "$(cat bg-ngo/url)" "$(cat ng-naptip/url)" "$(polls 300)" shots
check "NG's statistics page (console_federation_check.py stats)" 0 $?

# NG loses its log and starts again with another history.
kill -9 "${pids[ng]}"; wait "${pids[ng]}" 2>/dev/null; unset "pids[ng]"
rm -rf data-ng
start ng
/usr/bin/python3 "$CLIENT_TESTS/console_federation_check.py" fork \
  "$(cat bg-ngo/url)" "$(cat ng-naptip/url)" "$(polls 300)" shots
check "the auditor's page after NG's history was rewritten (fork)" 0 $?
if [ -n "${TRM_SCREENSHOTS:-}" ]; then
  mkdir -p "$TRM_SCREENSHOTS" && cp shots/*.png "$TRM_SCREENSHOTS/"
fi
exit "$fail"
