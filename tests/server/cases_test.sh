#!/usr/bin/env bash
# The TRM case rules on real nodes (BG, NG) over mutual TLS: a referral
# without consent is refused with the rule's name; with consent it crosses;
# travel before a risk assessment is refused; an asylum-flagged case is
# refused identity verification; and the recipient's node applies the rules
# too (BG without them accepts, NG refuses, and BG's sender sees why).
# Only the case owner (bg-ngo) records consent: the receiving organisation's
# "consent" naming the referrer is refused by both nodes, as are a risk
# assessment from the wrong side and feedback before any assessment.
set -u
source "$(dirname "$0")/federation_test_lib.sh" "$1" "$2"
rules() {  # rules ID true|false: turn the case rules on or off in ID.json
  python3 - "$1.json" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["case_rules"] = {"enforce": sys.argv[2] == "true", "travel_notice_working_days": 5}
json.dump(c, open(sys.argv[1], "w"))
PY
}
node_config bg "$bg_port" bg; rules bg true
node_config ng "$ng_port" ng; rules ng true
start bg; start ng
# The payload agrees with the flags (tests/payload_for.py), or is the file
# $PAYLOAD when that is set.
send() {  # send CASE TYPE [flags...]: as bg-ngo to ng-naptip
  local case=$1 type=$2; shift 2
  if [ -n "${PAYLOAD:-}" ]; then cp "$PAYLOAD" p; else payload_file p "$type" "$@"; fi
  "$TRMCTL" send --node "127.0.0.1:$bg_port" --ca pki/ca.crt --cert pki/org-bg-ngo.crt \
    --key pki/org-bg-ngo.key --type "$type" --case "$case" --from bg-ngo@bg --to ng-naptip@ng \
    --sign-key keys/bg-ngo.sign.key --recipient-pub keys/ng-naptip.enc.pub --in p "$@" >out 2>&1
}
status_of() {
  "$TRMCTL" status --node "127.0.0.1:$bg_port" --ca pki/ca.crt --cert pki/org-bg-ngo.crt \
    --key pki/org-bg-ngo.key "$1" >status.out 2>&1
}
ng_send() {  # ng_send CASE TYPE [flags...]: as ng-naptip to bg-ngo
  local case=$1 type=$2; shift 2
  payload_file p "$type" "$@"
  "$TRMCTL" send --node "127.0.0.1:$ng_port" --ca pki/ca.crt --cert pki/org-ng-naptip.crt \
    --key pki/org-ng-naptip.key --type "$type" --case "$case" --from ng-naptip@ng --to bg-ngo@bg \
    --sign-key keys/ng-naptip.sign.key --recipient-pub keys/bg-ngo.enc.pub --in p "$@" >out 2>&1
}
ng_status_of() {
  "$TRMCTL" status --node "127.0.0.1:$ng_port" --ca pki/ca.crt --cert pki/org-ng-naptip.crt \
    --key pki/org-ng-naptip.key "$1" >status.out 2>&1
}

send BG-C-1 referral-request --consent C-1; check "referral without consent" 1 $?
contains "consent rule named" CONSENT_REQUIRED out
contains "what would satisfy it" "send a CONSENT_RECORD" out
# The header's outcome is the payload's: a payload that does not say is
# refused before sealing, and a header cannot say otherwise.
"$TRMCTL" case payload --type consent-record --text 'consent_ref: "C-1"' --out silent.bin >/dev/null
PAYLOAD=silent.bin send BG-C-1 consent-record --consent C-1; check "consent that does not say granted" 1 $?
contains "the missing field named" "PAYLOAD_FIELD_REQUIRED.*'granted'" out
payload_for consent-record --consent C-1 --outcome consent-granted >granted.json
"$TRMCTL" case payload --type consent-record --from-json granted.json --out granted.bin >/dev/null
PAYLOAD=granted.bin send BG-C-1 consent-record --consent C-1 --outcome consent-withdrawn
check "a header that says otherwise" 1 $?
contains "mismatch named" "HEADER_PAYLOAD_MISMATCH" out
contains "both values" "CONSENT_WITHDRAWN, the payload says CONSENT_GRANTED" out
send BG-C-1 consent-record --consent C-1 --outcome consent-granted; check "consent" 0 $?
send BG-C-1 referral-request --consent C-1; check "referral with consent" 0 $?
id=$(sed -nE 's/^sent REFERRAL_REQUEST ([0-9a-f]{32}).*/\1/p' out)
for _ in $(seq 1 "$(polls 100)"); do status_of "$id"; grep -q ": RELAYED" status.out && break; sleep 0.05; done
contains "the referral crosses" ": RELAYED" status.out
# Sealed to another organisation's key, or kept too long: refused at once.
payload_file p referral-request
"$TRMCTL" send --node "127.0.0.1:$bg_port" --ca pki/ca.crt --cert pki/org-bg-ngo.crt \
  --key pki/org-bg-ngo.key --type referral-request --case BG-C-1 --from bg-ngo@bg \
  --to ng-naptip@ng --sign-key keys/bg-ngo.sign.key --recipient-pub keys/it-ngo.enc.pub \
  --in p --consent C-1 >out 2>&1
check "sealed to the wrong key" 1 $?
contains "key checked against the directory" RECIPIENT_KEY_NOT_IN_DIRECTORY out
send BG-C-1 referral-request --consent C-1 --expires-in 9000h; check "expiry too far" 1 $?
contains "lifetime limit" EXPIRY_TOO_FAR out
contains "latest allowed time" "latest allowed expiry" out
send BG-C-1 travel-arrangement --consent C-1 --departure 2099-01-05T10:00:00Z
check "travel before a risk assessment" 1 $?
contains "risk rule" RISK_ASSESSMENT_REQUIRED out

# Seen in the demo federation: the receiving side records a "consent" naming
# the referrer, then sends a risk assessment about the person.
for _ in $(seq 1 "$(polls 200)"); do
  "$TRMCTL" case show BG-C-1 --node "127.0.0.1:$ng_port" --ca pki/ca.crt \
    --cert pki/org-ng-naptip.crt --key pki/org-ng-naptip.key >show.out 2>&1 && break; sleep 0.05
done
contains "NG knows the case and its owner" "RETURN_REQUESTED" show.out
ng_send BG-C-1 consent-record --consent C-NG --outcome consent-granted
check "consent by the receiving side" 1 $?
contains "only the owner records consent" CONSENT_NOT_CASE_OWNER out
contains "the owner is named" "belongs to 'bg-ngo'" out
ng_send BG-C-1 risk-assessment --consent C-NG --outcome risk-acceptable
check "risk assessment from the receiving side" 1 $?
contains "side rule" WRONG_SIDE_FOR_TYPE out
ng_send BG-C-1 risk-feedback; check "feedback before an assessment" 1 $?
contains "feedback needs an assessment" RISK_ASSESSMENT_REQUIRED out
# With NG's rules off, BG still refuses it, and NG's sender learns why.
kill -TERM "${pids[ng]}"; wait "${pids[ng]}"; unset "pids[ng]"
rules ng false; start ng
ng_send BG-C-1 consent-record --consent C-NG --outcome consent-granted
check "NG without rules accepts the consent" 0 $?
idc=$(sed -nE 's/^sent CONSENT_RECORD ([0-9a-f]{32}).*/\1/p' out)
for _ in $(seq 1 "$(polls 400)"); do ng_status_of "$idc"; grep -q ": REJECTED" status.out && break; sleep 0.05; done
contains "BG refuses it" ": REJECTED" status.out
contains "with BG's rule" "reason_code: CONSENT_NOT_CASE_OWNER" status.out
kill -TERM "${pids[ng]}"; wait "${pids[ng]}"; unset "pids[ng]"
rules ng true; start ng

send BG-C-2 consent-record --consent C-2 --outcome consent-granted --asylum
check "asylum flag" 0 $?
send BG-C-2 identity-verification-request --consent C-2; check "identity verification with asylum" 1 $?
contains "asylum rule" ASYLUM_BLOCKS_VERIFICATION out

# The recipient's node enforces too.
kill -TERM "${pids[bg]}"; wait "${pids[bg]}"; unset "pids[bg]"
rules bg false; : >bg.log; start bg
send BG-C-3 referral-request --consent C-3; check "BG without rules accepts" 0 $?
id3=$(sed -nE 's/^sent REFERRAL_REQUEST ([0-9a-f]{32}).*/\1/p' out)
for _ in $(seq 1 "$(polls 200)"); do status_of "$id3"; grep -q ": REJECTED" status.out && break; sleep 0.05; done
contains "NG refuses it" ": REJECTED" status.out
contains "with NG's rule" "reason_code: CONSENT_REQUIRED" status.out
exit $fail
