#!/usr/bin/env bash
# The whole TRM return of a victim identified in Bulgaria, origin Nigeria,
# across three real nodes (BG, NG, IT) over mutual TLS, with the case rules
# and their deadlines on:
#   consent -> referral -> acknowledgement with a named contact -> risk
#   assessment and feedback -> reintegration plan -> travel arrangement ->
#   arrival and handover -> monitoring reports -> closure,
# each step with its signed acceptance receipt and the recipient's signed
# acknowledgement seen by the sender (`trmctl status`). Then: a referral whose
# acknowledgement is late escalates (DEADLINE_NOTICE to the waiting
# organisation and the coordinator at BG, and to the owing organisation at
# NG; `trmctl case overdue`); `trmctl case show` and `timeline`; and an
# erasure notice reaches every organisation that received the person's data,
# on both other nodes.
set -u
source "$(dirname "$0")/federation_test_lib.sh" "$1" "$2"
rules() {  # rules ID: the case rules with short periods, for a test
  python3 - "$1.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["case_rules"] = {"enforce": True, "deadline_check_seconds": 1,
                   "periods": {"referral_ack": "8s", "monitoring_every": "3s",
                               "monitoring_for": "7s"},
                   "pairs": {"BG>IT": {"referral_ack": "720h"}}}
json.dump(c, open(sys.argv[1], "w"))
PY
}
for n in bg ng it; do
  port_var=${n}_port
  node_config $n "${!port_var}" $n; rules $n; start $n
  cp keys/$n-node.sign.pub keys/$n.sign.pub  # DEADLINE_NOTICEs are the node's
done
declare -A port=([bg]=$bg_port [ng]=$ng_port [it]=$it_port)
node_of() { echo "${1%%-*}"; }
# send FROM TO CASE TYPE [flags...]: prints nothing; the result is in `out`.
send() {
  local from=$1 to=$2 case=$3 type=$4; shift 4
  local n; n=$(node_of "$from")
  [ -f payload ] || payload_file payload "$type" "$@"
  "$TRMCTL" send --node "127.0.0.1:${port[$n]}" --ca pki/ca.crt --cert pki/org-$from.crt \
    --key pki/org-$from.key --type "$type" --case "$case" --from "$from@$n" \
    --to "$to@$(node_of "$to")" --sign-key keys/$from.sign.key \
    --recipient-pub keys/$to.enc.pub --node-pub keys/$n-node.sign.pub --in payload "$@" >out 2>&1
  local rc=$?
  rm -f payload
  return $rc
}
as() {  # as ORG trmctl-args...: trmctl against ORG's node with its certificate
  local org=$1; shift; local n; n=$(node_of "$org")
  "$TRMCTL" "$@" --node "127.0.0.1:${port[$n]}" --ca pki/ca.crt --cert pki/org-$org.crt \
    --key pki/org-$org.key
}
declare -A expected
receive() {  # receive ORG TYPE: until one more TYPE message arrived (10 s)
  mkdir -p "recv-$1"; touch "recv-$1.log"
  local want=$(( ${expected[$1:$2]:-0} + 1 )); expected[$1:$2]=$want
  for _ in $(seq 1 "$(polls 100)"); do
    [ "$(grep -c "received $2 " "recv-$1.log")" -ge "$want" ] && return 0
    as "$1" receive --recipient-key keys/$1.enc.key --keys-dir keys \
      --sign-key keys/$1.sign.key --out-dir "recv-$1" --wait-ms 100 >>"recv-$1.log" 2>&1
  done
  echo "FAIL: $1 did not receive $2 (#$want)"; cat "recv-$1.log"; fail=1; return 1
}
# step NAME FROM TO TYPE [flags...]: sent, receipt valid, received, and the
# sender's node shows the recipient's signed acknowledgement.
step() {
  local name=$1 from=$2 to=$3 type=$4; shift 4
  send "$from" "$to" BG-R-1 "$type" "$@"; check "$name: accepted" 0 $?
  contains "$name: acceptance receipt valid" "receipt valid" out
  local id; id=$(sed -nE 's/^sent [A-Z_]+ ([0-9a-f]{32}).*/\1/p' out)
  receive "$to" "$(tr 'a-z-' 'A-Z_' <<<"$type")"
  for _ in $(seq 1 "$(polls 100)"); do
    as "$from" status "$id" --directory directory.signed \
      --authority-pub keys/authority.sign.pub >status.out 2>&1
    grep -q ": ACKNOWLEDGED" status.out && break; sleep 0.1
  done
  contains "$name: acknowledged, signed by the recipient" ": ACKNOWLEDGED" status.out
}
payload() {  # payload TYPE TEXT: the sealed content of the next send
  "$TRMCTL" case payload --type "$1" --text "$2" --out payload >/dev/null
}

# A referral nobody answers, to escalate later (8 s to acknowledge).
payload consent-record 'granted: true consent_ref: "C-2"'
send bg-ngo ng-naptip BG-R-2 consent-record --consent C-2 --outcome consent-granted
check "late case: consent" 0 $?
send bg-ngo ng-naptip BG-R-2 referral-request --consent C-2
check "late case: referral" 0 $?
late_sent=$(date +%s)
receive ng-naptip CONSENT_RECORD; receive ng-naptip REFERRAL_REQUEST  # but no answer

departure=$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc)+d.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
payload consent-record 'granted: true consent_ref: "C-1" recipient_org: "ng-naptip" purpose: "voluntary return"'
step "consent" bg-ngo ng-naptip consent-record --consent C-1 --outcome consent-granted
payload referral-request 'needs: "shelter" needs: "medical" reason: "voluntary return"'
step "referral" bg-ngo ng-naptip referral-request --consent C-1
payload referral-ack 'accepted: true contact { name: "Ada Obi" role: "case manager" }'
step "acknowledgement with a named contact" ng-naptip bg-ngo referral-ack --outcome referral-accepted
payload risk-assessment 'threat_to_life_or_health: false re_trafficking_risk: "low"'
step "risk assessment" bg-ngo ng-naptip risk-assessment --consent C-1 --outcome risk-acceptable
step "risk feedback" ng-naptip bg-ngo risk-feedback
step "reintegration plan" bg-ngo ng-naptip reintegration-plan --consent C-1 --outcome plan-agreed
step "travel arrangement" bg-ngo ng-naptip travel-arrangement --consent C-1 --departure "$departure"
step "arrival" ng-naptip bg-ngo arrival-confirmation
step "handover" ng-naptip bg-ngo handover-confirmation
step "first monitoring report" ng-naptip bg-ngo monitoring-report
as bg-ngo case show BG-R-1 >show.out 2>&1; check "case show" 0 $?
contains "state after a report" "MONITORING" show.out
contains "the next report is due" "next due: MONITORING_REPORT_DUE" show.out
step "second monitoring report" ng-naptip bg-ngo monitoring-report
step "closure" bg-ngo ng-naptip case-closure
as bg-ngo case show BG-R-1 >show.out 2>&1
contains "closed" ": CLOSED" show.out
contains "nothing is due once closed" "nothing due" show.out
send bg-ngo ng-naptip BG-R-1 monitoring-report; check "nothing after closure" 1 $?
contains "closure rule" CASE_CLOSED out

# The timeline: every step for the coordinator, the caller's own payloads.
as bg-nrm case timeline BG-R-1 >timeline.out 2>&1; check "timeline" 0 $?
for t in CONSENT_RECORD REFERRAL_REQUEST REFERRAL_ACK RISK_ASSESSMENT RISK_FEEDBACK \
    REINTEGRATION_PLAN TRAVEL_ARRANGEMENT ARRIVAL_CONFIRMATION HANDOVER_CONFIRMATION \
    MONITORING_REPORT CASE_CLOSURE; do
  contains "timeline has $t" "$t" timeline.out
done
as bg-ngo case timeline BG-R-1 --payloads recv-bg-ngo >timeline.out 2>&1
contains "the named contact, from bg-ngo's own decrypted message" '"name":"Ada Obi"' timeline.out
as it-ngo case show BG-R-1 >out 2>&1; check "another organisation cannot see it" 1 $?
contains "not your case" NOT_YOUR_CASE out

# The late acknowledgement escalates at both ends.
sleep $(( late_sent + 9 - $(date +%s) > 0 ? late_sent + 9 - $(date +%s) : 0 ))
receive bg-nrm DEADLINE_NOTICE
contains "the coordinator is told what is late" "OVERDUE REFERRAL_ACK_DUE" recv-bg-nrm.log
receive bg-ngo DEADLINE_NOTICE
receive ng-naptip DEADLINE_NOTICE
contains "the owing organisation is told at its node" "owed by ng-naptip" recv-ng-naptip.log
as bg-nrm case overdue >overdue.out 2>&1; check "overdue list" 0 $?
contains "BG-R-2 is overdue" "BG-R-2 (RETURN_REQUESTED): REFERRAL_ACK_DUE" overdue.out
as bg-ngo case overdue >out 2>&1; check "overdue is for the coordinator" 1 $?
contains "coordinator only" NOT_COORDINATOR out
"$TRMCTL" audit trail --node "127.0.0.1:$bg_port" --ca pki/ca.crt --cert pki/auditor-grevio.crt \
  --key pki/auditor-grevio.key --directory directory.signed --authority-pub keys/authority.sign.pub \
  --case BG-R-2 >trail.out 2>&1
contains "the audit trail has the missed deadline" DEADLINE_MISSED trail.out
send ng-naptip bg-ngo BG-R-2 referral-ack --outcome referral-accepted; check "late ack" 0 $?
for _ in $(seq 1 "$(polls 100)"); do
  as bg-nrm case overdue >overdue.out 2>&1; grep -q "^0 overdue" overdue.out && break; sleep 0.1
done
contains "the acknowledgement clears it" "^0 overdue" overdue.out

# Erasure: the person's data also went to IT; the notice reaches everyone.
send bg-ngo it-ngo BG-R-1 consent-record --consent C-3 --outcome consent-granted
check "a closed case takes no new consent" 1 $?
send bg-ngo it-ngo BG-R-3 consent-record --consent C-3 --outcome consent-granted; check "consent IT" 0 $?
send bg-ngo it-ngo BG-R-3 referral-request --consent C-3; check "data to IT" 0 $?
send bg-ngo ng-naptip BG-R-3 consent-record --consent C-4 --outcome consent-granted; check "consent NG" 0 $?
send bg-ngo ng-naptip BG-R-3 risk-assessment --consent C-4 --outcome risk-acceptable; check "data to NG" 0 $?
as bg-ngo case erase BG-R-3 --from bg-ngo@bg --sign-key keys/bg-ngo.sign.key --keys-dir keys \
  --fields "date_of_birth" --legal-basis "GDPR Art. 17" >erase.out 2>&1
check "erase fans out" 0 $?
contains "two recipients" "2 organisation(s) received" erase.out
! grep -q '^{' erase.out; check "erase prints no JSON without --json" 0 $?
as bg-ngo --json case erase BG-R-3 --from bg-ngo@bg --sign-key keys/bg-ngo.sign.key --keys-dir keys \
  --fields "date_of_birth" --legal-basis "GDPR Art. 17" >erase.json 2>&1
check "erase --json" 0 $?
python3 -c 'import json; d=json.loads(open("erase.json").read()); assert d["ok"] and len(d["sent"])==2, d' 2>/dev/null
check "erase --json prints exactly one JSON object" 0 $?
receive it-ngo ERASURE_OR_RECTIFICATION_NOTICE
receive ng-naptip ERASURE_OR_RECTIFICATION_NOTICE
receive it-ngo ERASURE_OR_RECTIFICATION_NOTICE
receive ng-naptip ERASURE_OR_RECTIFICATION_NOTICE
exit $fail
