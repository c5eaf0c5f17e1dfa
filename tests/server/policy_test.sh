#!/usr/bin/env bash
# The federation's policy in the signed directory, on three real nodes (BG,
# NG, IT) over mutual TLS:
# - a node whose configuration is looser than the policy refuses to start
#   (and --check-config says so), naming the setting and both values;
# - the sender's node and the recipient's node set the same deadline from
#   the policy, and each deadline names the policy version that set it;
# - a node's stricter setting applies where it is stricter, and says so;
# - a new directory with a new policy version applies from the next
#   message on, while a deadline already set keeps its version; a policy
#   that makes a node's setting looser is logged, and the policy applies;
# - a directory nearing its valid_until is warned about, works through its
#   grace period, then no new cases are taken while open ones go on, until
#   a newer directory comes;
# - statistics for the coordinator and the auditors in scope (refusals
#   counted by case rule), signed exports and their aggregate;
# - a deadline owed by NG while NG's node is down pauses under the policy's
#   failed_link "pause" (nobody is blamed), runs on once NG is back, and is
#   met; the pause and the resumption are in BG's audit trail;
# - a contingency for NG declared by BG's coordinator reaches NG and IT,
#   extends the deadline of a referral BG>NG at both ends by the policy's
#   amount, and its end lists what it deferred; an NGO cannot declare one;
#   while it holds, an urgent message queued for NG while NG was down goes
#   before the messages queued ahead of it.
set -u
source "$(dirname "$0")/federation_test_lib.sh" "$1" "$2"
# sign_policy SERIAL POLICY_JSON: directory.signed with this policy (and
# valid until $VALID_UNTIL, when set), replaced in one rename (the nodes
# watch the file).
sign_policy() {
  python3 - "$1" "$2" "${VALID_UNTIL:-}" <<'PY'
import json, sys
s = json.load(open("spec.json"))
s["serial"] = int(sys.argv[1])
s["policy"] = json.loads(sys.argv[2])
if sys.argv[3]:
    s["valid_until"] = sys.argv[3]
json.dump(s, open("spec-policy.json", "w"))
PY
  rm -f directory.next
  "$TRMCTL" directory sign --in spec-policy.json --authority-key keys/authority.sign.key \
    --out directory.next >sign.out 2>&1 || { echo "FAIL: sign"; cat sign.out; exit 1; }
  mv directory.next directory.signed
}
rules() {  # rules ID PERIODS_JSON: case rules on, with these periods
  python3 - "$1.json" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["case_rules"] = {"enforce": True, "periods": json.loads(sys.argv[2])}
json.dump(c, open(sys.argv[1], "w"))
PY
}
wait_log() {  # wait_log NAME FILE NEEDLE
  for _ in $(seq 1 "$(polls 100)"); do grep -q -- "$3" "$2" && { echo "ok: $1"; return; }; sleep 0.1; done
  echo "FAIL: $1: '$3' not in $2:"; cat "$2"; fail=1
}

# Version 1: 48 h to answer a referral from BG to NG; 72 h elsewhere.
sign_policy 2 '{"version": 1, "pairs": {"BG>NG": {"referral_ack": "48h"}}}'
node_config bg "$bg_port" bg; rules bg '{"referral_ack": "60h"}'  # stricter
node_config ng "$ng_port" ng; rules ng '{}'
node_config it "$it_port" it; rules it '{"referral_ack": "96h"}'  # looser

"$BROKER" --config it.json --check-config >check.out 2>&1
check "--check-config refuses a looser setting" 1 $?
contains "the setting, both values and the rule" \
  "POLICY_LOOSER_THAN_FEDERATION.*case_rules.periods.referral_ack is 96h, looser than the federation's 72h (policy version 1" check.out
timeout 60 "$BROKER" --config it.json >it.log 2>&1
check "a node with a looser setting does not start" 1 $?
contains "its log says why" "never looser: remove the setting or make it 72h or shorter" it.log
[ ! -e data-it ]; check "nothing was opened" 0 $?
rules it '{"referral_ack": "72h"}'
start bg; start ng; start it
contains "the policy version is logged at start" "federation policy version 1" bg.log
for n in bg ng it; do cp keys/$n-node.sign.pub keys/$n.sign.pub; done

declare -A port=([bg]=$bg_port [ng]=$ng_port [it]=$it_port)
node_of() { echo "${1%%-*}"; }
as() {  # as ORG trmctl-args...: trmctl against ORG's node with its certificate
  local org=$1; shift; local n; n=$(node_of "$org")
  "$TRMCTL" "$@" --node "127.0.0.1:${port[$n]}" --ca pki/ca.crt --cert pki/org-$org.crt \
    --key pki/org-$org.key
}
send() {  # send FROM TO CASE TYPE [flags...]
  local from=$1 to=$2 case=$3 type=$4; shift 4
  payload_file payload "$type" "$@"
  as "$from" send --type "$type" --case "$case" --from "$from@$(node_of "$from")" \
    --to "$to@$(node_of "$to")" --sign-key keys/$from.sign.key \
    --recipient-pub keys/$to.enc.pub --in payload "$@" >out 2>&1
}
refer() {  # refer FROM TO CASE: consent, then a referral
  send "$1" "$2" "$3" consent-record --consent "C-$3" --outcome consent-granted
  check "$3: consent" 0 $?
  send "$1" "$2" "$3" referral-request --consent "C-$3"; check "$3: referral" 0 $?
}
# ack_deadline ORG CASE: "DUE_UNIX POLICY_VERSION LOCAL" of the case's
# REFERRAL_ACK_DUE at ORG's node, waiting for it to arrive there.
ack_deadline() {
  for _ in $(seq 1 "$(polls 100)"); do
    as "$1" --json case show "$2" >show.json 2>&1 && python3 - <<'PY' && return 0
import json, datetime
d = [x for x in json.load(open("show.json"))["deadlines"] if x["kind"] == "REFERRAL_ACK_DUE"]
due = datetime.datetime.fromisoformat(d[0]["due"].replace("Z", "+00:00")).timestamp()
print(int(due), d[0]["policy_version"], str(d[0]["local_rule"]).lower())
PY
    sleep 0.1
  done
  echo "FAIL: no REFERRAL_ACK_DUE for $2 at $1's node"; cat show.json; fail=1; echo "0 0 x"
}
# near A B SECONDS: |A - B| <= SECONDS
near() { [ $(( $1 > $2 ? $1 - $2 : $2 - $1 )) -le "$3" ]; }

now=$(date +%s)
refer bg-ngo ng-naptip BG-P-1
read -r due_bg ver_bg local_bg < <(ack_deadline bg-ngo BG-P-1)
read -r due_ng ver_ng local_ng < <(ack_deadline ng-naptip BG-P-1)
near "$due_bg" $((now + 48 * 3600)) 30; check "BG: 48 h from the policy's pair BG>NG" 0 $?
near "$due_ng" "$due_bg" 5; check "NG sets the same deadline as BG" 0 $?
[ "$ver_bg $local_bg $ver_ng $local_ng" = "1 false 1 false" ]
check "both name policy version 1 ($ver_bg $local_bg $ver_ng $local_ng)" 0 $?
as bg-ngo case show BG-P-1 >show.out 2>&1
contains "case show names the rule" "REFERRAL_ACK_DUE by .*owed by ng-naptip to bg-ngo \[policy v1\]" show.out

# BG to IT: the policy says 72 h, BG's own 60 h is stricter and applies at
# BG; IT applies the policy's 72 h.
refer bg-ngo it-ngo BG-P-2
read -r due_bg ver_bg local_bg < <(ack_deadline bg-ngo BG-P-2)
read -r due_it ver_it local_it < <(ack_deadline it-ngo BG-P-2)
near "$due_bg" $((now + 60 * 3600)) 30; check "BG's stricter 60 h" 0 $?
[ "$ver_bg $local_bg" = "1 true" ]; check "marked as BG's own rule" 0 $?
near "$due_it" $((now + 72 * 3600)) 30; check "IT: the policy's 72 h" 0 $?
[ "$ver_it $local_it" = "1 false" ]; check "IT names policy version 1" 0 $?
as bg-ngo case show BG-P-2 >show.out 2>&1
contains "case show names BG's rule" "\[this node's rule, stricter than policy v1\]" show.out

# Version 2: 24 h for BG>NG, and 48 h everywhere, which makes BG's 60 h
# looser. The nodes load it by themselves.
sign_policy 3 '{"version": 2, "periods": {"referral_ack": "48h"},
                "pairs": {"BG>NG": {"referral_ack": "24h"}}}'
for n in bg ng it; do
  wait_log "$n loads policy version 2" $n.log "directory serial 3 loaded.*federation policy version 2"
done
wait_log "BG says its setting is now looser" bg.log \
  "case_rules.periods.referral_ack is 60h, looser than the federation's 48h (policy version 2.*the federation's value applies"
now=$(date +%s)
refer bg-ngo ng-naptip BG-P-3
read -r due_bg ver_bg local_bg < <(ack_deadline bg-ngo BG-P-3)
read -r due_ng ver_ng local_ng < <(ack_deadline ng-naptip BG-P-3)
near "$due_bg" $((now + 24 * 3600)) 30; check "the new version's 24 h" 0 $?
near "$due_ng" "$due_bg" 5; check "NG again the same" 0 $?
[ "$ver_bg $ver_ng" = "2 2" ]; check "both name policy version 2" 0 $?
refer bg-ngo it-ngo BG-P-4
read -r due_bg ver_bg local_bg < <(ack_deadline bg-ngo BG-P-4)
near "$due_bg" $((now + 48 * 3600)) 30; check "the policy's 48 h, not BG's looser 60 h" 0 $?
[ "$ver_bg $local_bg" = "2 false" ]; check "as policy version 2" 0 $?
read -r due_bg ver_bg local_bg < <(ack_deadline bg-ngo BG-P-1)
[ "$ver_bg" = 1 ]; check "a deadline set before keeps the version that set it" 0 $?

# A changed policy under the same version is refused by the nodes.
sign_policy 4 '{"version": 2, "periods": {"referral_ack": "36h"}}'
wait_log "same version, other policy: refused" bg.log "needs a higher policy version"
grep -q "directory serial 4 loaded" bg.log; check "serial 4 was not loaded" 1 $?

# Validity: a directory valid for 10 more seconds, with 5 s of grace.
# The nodes warn, keep working through the grace period, then take no new
# cases while the open ones go on; a newer directory lifts it.
sign_policy_until() {  # sign_policy_until SERIAL SECONDS_FROM_NOW POLICY_JSON
  VALID_UNTIL=$(date -u -d "+$2 seconds" +%Y-%m-%dT%H:%M:%SZ) sign_policy "$1" "$3"
}
v3='{"version": 3, "periods": {"referral_ack": "48h"},
     "pairs": {"BG>NG": {"referral_ack": "24h"}}, "directory_grace_seconds": 5,
     "statistics_min_cell": 3}'
sign_policy_until 5 10 "$v3"
wait_log "BG warns before the end" bg.log "serial 5) expires at"
wait_log "then the grace period" bg.log "serial 5) expired at .*keeps working on it until"
wait_log "then no new cases" bg.log "the node takes no new cases and keeps delivering"
send bg-ngo ng-naptip BG-P-9 consent-record --consent C-BG-P-9 --outcome consent-granted
check "a new case is refused" 1 $?
contains "the reason and what to do" "DIRECTORY_LAPSED.*takes no new cases until the federation authority publishes a newer directory" out
send bg-ngo ng-naptip BG-P-1 referral-request --consent C-BG-P-1
check "an open case goes on at BG" 0 $?
wait_log "NG has lapsed too" ng.log "the node takes no new cases and keeps delivering"
send ng-naptip bg-ngo BG-P-1 referral-ack --outcome referral-accepted
check "and at NG" 0 $?
as bg-nrm node status >status.out 2>&1; check "node status" 0 $?
contains "node status says lapsed" "directory: serial 5, lapsed.*NO NEW CASES" status.out
"$TRMCTL" directory inspect --in directory.signed --authority-pub keys/authority.sign.pub >out 2>&1
contains "inspect shows valid_until" '"valid_until"' out
sign_policy_until 6 31536000 "$v3"
wait_log "a newer directory puts it right" bg.log "serial 6) is valid until"
send bg-ngo ng-naptip BG-P-9 consent-record --consent C-BG-P-9 --outcome consent-granted
check "new cases again" 0 $?

# The mechanism statistics at BG, for its coordinator: with the policy's
# threshold of 3, BG>NG's 3 referrals show and BG>IT's 2 do not.
# Three referrals BG>NG without a consent: refused by the case rule, and
# counted as such.
for i in 1 2 3; do
  send bg-ngo ng-naptip BG-P-5$i referral-request --consent C-BG-P-5$i
  check "BG-P-5$i: a referral without a consent is refused" 1 $?
  contains "by the consent rule" CONSENT_REQUIRED out
done
range=(--from "$(date -u -d '-1 month' +%Y-%m)" --to "$(date -u -d '+1 month' +%Y-%m)")
as bg-nrm --json stats "${range[@]}" >stats.json 2>&1; check "stats as JSON" 0 $?
python3 - <<'PY'
import json, sys
r = json.load(open("stats.json"))["report"]
fig = {(f["measure"], f["route"], f["period"]): f for f in r["figures"]}
ok = (r["threshold"] == 3 and r["policy_version"] == "3" and
      fig[("referrals", "BG>NG", "*")]["value"] == "3" and
      fig[("referrals", "BG>IT", "*")]["value"] == "0" and
      fig[("referrals", "BG>IT", "*")]["suppressed_cells"] == 3 and
      fig[("consents_granted", "BG>NG", "*")]["value"] == "3" and
      fig[("refused_consent_required", "BG>NG", "*")]["value"] == "3" and
      "NG>BG" in r["routes"] and "IT>BG" in r["routes"])
if not ok:
    print([f for f in r["figures"] if f["value"] != "0" and f["period"] == "*"], r["threshold"], r["policy_version"])
sys.exit(0 if ok else 1)
PY
check "3 referrals BG>NG shown, BG>IT's 2 suppressed, 3 refusals by rule, every route listed" 0 $?
as bg-nrm stats "${range[@]}" --period quarter >stats.out 2>&1; check "stats as a table" 0 $?
contains "the table says what is left out" "counts below 3 are not shown" stats.out
as bg-nrm stats "${range[@]}" --csv >stats.csv 2>&1; check "stats as CSV" 0 $?
contains "CSV rows" "^bg,referrals,BG>NG,\*,3,2,>=3 (+2x<3)$" stats.csv
as bg-ngo stats "${range[@]}" >out 2>&1; check "an NGO may not read the statistics" 1 $?
contains "who may" NOT_COORDINATOR out
# An auditor whose scope covers BG reads the same figures; one for IT only
# may not.
for who in grevio it-only; do
  "$TRMCTL" --json stats "${range[@]}" --node "127.0.0.1:$bg_port" --ca pki/ca.crt \
    --cert "pki/auditor-$who.crt" --key "pki/auditor-$who.key" >"stats-$who.json" 2>&1
  echo $? >"rc-$who"
done
check "an auditor in scope reads BG's statistics" 0 "$(cat rc-grevio)"
python3 -c '
import json
a = json.load(open("stats-grevio.json"))["report"]; b = json.load(open("stats.json"))["report"]
assert a["figures"] == b["figures"] and a["node"] == "bg", a'
check "the same figures as the coordinator's" 0 $?
check "an auditor for IT only may not" 1 "$(cat rc-it-only)"
contains "out of its scope" OUT_OF_SCOPE stats-it-only.json
# Signed by each node for a regional secretariat, which checks and combines
# them: BG>NG counted once, from BG.
as bg-nrm stats "${range[@]}" --export bg.stats >out 2>&1; check "BG exports" 0 $?
as ng-naptip stats "${range[@]}" --export ng.stats >out 2>&1; check "NG exports" 0 $?
trust=(--directory directory.signed --authority-pub keys/authority.sign.pub)
"$TRMCTL" --json stats aggregate bg.stats ng.stats "${trust[@]}" >agg.json 2>&1
check "the secretariat verifies and combines them" 0 $?
python3 - <<'PY'
import json, sys
r = json.load(open("agg.json"))["report"]
fig = {(f["measure"], f["route"], f["period"]): f for f in r["figures"]}
sys.exit(0 if r["node"] == "*" and fig[("referrals", "BG>NG", "*")]["value"] == "3" else 1)
PY
check "BG>NG's 3 referrals, once" 0 $?
python3 -c '
d = bytearray(open("bg.stats", "rb").read()); d[len(d) // 3] ^= 4; open("bad.stats", "wb").write(d)'
"$TRMCTL" stats aggregate bad.stats ng.stats "${trust[@]}" >out 2>&1
check "an altered report is refused" 1 $?
contains "and named" "bad.stats: .*STATISTICS_SIGNATURE_INVALID\|STATISTICS_SIGNATURE_INVALID.*bad.stats" out

# A failed link under the policy's failed_link "pause": NG's node is down
# when BG's referral is sent. The acknowledgement NG owes passes its due
# time while NG cannot be reached, so it pauses: nobody is told it was
# missed. Once NG is back, the referral arrives, the deadline runs on with
# the time it had left, and NG's answer meets it.
v4='{"version": 4, "periods": {"referral_ack": "48h"},
     "pairs": {"BG>NG": {"referral_ack": "15s"}}, "statistics_min_cell": 3,
     "contingency": {"failed_link": "pause"}}'
sign_policy_until 7 31536000 "$v4"
for n in bg ng; do wait_log "$n loads policy 4" $n.log "federation policy version 4"; done
kill -TERM "${pids[ng]}"; wait "${pids[ng]}" 2>/dev/null; unset "pids[ng]"
refer bg-ngo ng-naptip BG-P-20
wait_log "BG pauses the deadline NG owes" bg.log \
  "REFERRAL_ACK_DUE owed by ng-naptip to bg-ngo, due .*: node ng unreachable since .*; paused with 1[45]s left"
as bg-ngo case show BG-P-20 >show.out 2>&1
contains "case show says it waits for the link" \
  "REFERRAL_ACK_DUE owed by ng-naptip to bg-ngo \[policy v4\]  PAUSED paused since .*: node ng cannot be reached; 1[45]s left once the link is back" show.out
grep -q "DEADLINE_MISSED case BG-P-20" bg.log; check "nobody is told it was missed" 1 $?
start ng
wait_log "the link is back: it runs on" bg.log "the link to node ng is back after"
read -r due_ng _ < <(ack_deadline ng-naptip BG-P-20)
[ "$due_ng" -gt "$(date +%s)" ]; check "at NG it runs from the referral's arrival" 0 $?
send ng-naptip bg-ngo BG-P-20 referral-ack --outcome referral-accepted
check "NG answers in time" 0 $?
for _ in $(seq 1 "$(polls 100)"); do
  as bg-ngo --json case show BG-P-20 >show.json 2>&1
  grep -q REFERRAL_ACK_DUE show.json || break; sleep 0.1
done
grep -q '"ok":true' show.json && ! grep -q REFERRAL_ACK_DUE show.json
check "the answer met the deadline at BG" 0 $?
grep -q "DEADLINE_MISSED case BG-P-20" bg.log ng.log; check "and it was never missed" 1 $?
"$TRMCTL" audit trail --node "127.0.0.1:$bg_port" --ca pki/ca.crt --cert pki/auditor-grevio.crt \
  --key pki/auditor-grevio.key --directory directory.signed --authority-pub keys/authority.sign.pub \
  --case BG-P-20 >trail.out 2>&1
check "BG's trail, for an auditor" 0 $?
grep -q DEADLINE_PAUSED trail.out && grep -q DEADLINE_RESUMED trail.out && ! grep -q DEADLINE_MISSED trail.out
check "the audit trail has the pause and the resumption" 0 $?

# A contingency: BG's coordinator declares one for NG. It is signed, kept and
# audited at BG, carried to NG and IT, and while it holds a deadline on a
# route to NG passes the policy's extension (1 h) later, at both ends. An
# NGO may not declare one. Ending it lists what it deferred, and the end
# reaches the peers.
v5='{"version": 5, "periods": {"referral_ack": "48h"},
     "pairs": {"BG>NG": {"referral_ack": "8s"}}, "statistics_min_cell": 3,
     "contingency": {"failed_link": "pause", "deadline_extension_seconds": 3600,
                     "lifetime_extension_seconds": 2592000,
                     "urgent_types": ["NON_DEPARTURE_NOTICE", "RISK_FEEDBACK"]}}'
sign_policy_until 8 31536000 "$v5"
for n in bg ng; do wait_log "$n loads policy 5" $n.log "federation policy version 5"; done
send bg-ngo ng-naptip BG-P-31 consent-record --consent C-BG-P-31 --outcome consent-granted \
  --expires-in 1000h
check "without a contingency a 1000 h lifetime is refused" 1 $?
contains "as too far" EXPIRY_TOO_FAR out
as bg-ngo contingency declare --from bg-ngo@bg --country NG --reason "test" \
  --sign-key keys/bg-ngo.sign.key >out 2>&1
check "an NGO may not declare a contingency" 1 $?
contains "only a coordinator" "CONTINGENCY_INVALID.*not a NATIONAL_COORDINATOR" out
as bg-nrm --json contingency declare --from bg-nrm@bg --country NG \
  --reason "flooding in Lagos: NAPTIP offices closed" --sign-key keys/bg-nrm.sign.key >decl.json 2>&1
check "BG's coordinator declares a contingency for NG" 0 $?
cid=$(python3 -c 'import json; print(json.load(open("decl.json"))["contingencies"][0]["id"])')
wait_log "BG logs it" bg.log "contingency $cid for the country NG by bg-nrm of node bg"
wait_log "NG has it from BG" ng.log "contingency $cid for the country NG"
wait_log "IT has it from BG" it.log "contingency $cid for the country NG"
send bg-ngo ng-naptip BG-P-31 consent-record --consent C-BG-P-31 --outcome consent-granted \
  --expires-in 1000h
check "while it holds, a message to NG may live the policy's 30 days longer" 0 $?
mid=$(sed -n 's/^sent CONSENT_RECORD \([0-9a-f]*\): .*/\1/p' out | head -1)
for _ in $(seq 1 "$(polls 100)"); do
  as bg-ngo status "$mid" >st.out 2>&1; grep -q "RELAYED\|DELIVERED\|ACKNOWLEDGED" st.out && break; sleep 0.1
done
contains "and NG takes it too" "RELAYED\|DELIVERED\|ACKNOWLEDGED" st.out
as ng-naptip contingency list >out 2>&1
contains "NG lists it as holding" "$cid  country NG  HOLDS .*by bg-nrm@bg: flooding in Lagos" out
refer bg-ngo ng-naptip BG-P-30
wait_log "BG extends the deadline on BG>NG by the policy's hour" bg.log \
  "REFERRAL_ACK_DUE owed by ng-naptip to bg-ngo extended by 1h to .* under contingency $cid"
wait_log "and so does NG" ng.log "REFERRAL_ACK_DUE owed by ng-naptip to bg-ngo extended by 1h"
as bg-ngo case show BG-P-30 >show.out 2>&1
contains "case show says so" "\[extended by 1h under contingency $cid\]" show.out
grep -q "DEADLINE_MISSED case BG-P-30" bg.log ng.log; check "nobody was told it was missed" 1 $?
# Urgent first: while it holds, NG's node is down and BG queues three new
# cases' consents, then a non-departure notice for BG-P-30, urgent in the
# policy. Once NG is back, the notice goes first: NG receives it before them.
kill -TERM "${pids[ng]}"; wait "${pids[ng]}" 2>/dev/null; unset "pids[ng]"
for c in BG-P-41 BG-P-42 BG-P-43; do
  send bg-ngo ng-naptip $c consent-record --consent C-$c --outcome consent-granted
  check "$c: a consent queued for NG" 0 $?
done
send bg-ngo ng-naptip BG-P-30 non-departure-notice
check "BG-P-30: the non-departure notice queued behind them" 0 $?
start ng
wait_log "BG relays the urgent notice first" bg.log "to node ng: 1 messages (urgent ones"
for _ in $(seq 1 "$(polls 100)"); do
  "$TRMCTL" audit trail --node "127.0.0.1:$ng_port" --ca pki/ca.crt --cert pki/auditor-grevio.crt \
    --key pki/auditor-grevio.key --directory directory.signed --authority-pub keys/authority.sign.pub \
    --kind MESSAGE_RECEIVED >trail.out 2>&1
  grep -q "BG-P-43" trail.out && break; sleep 0.1
done
python3 - <<'PY'
lines = open("trail.out").read().splitlines()
def first(needle):
    return next(i for i, l in enumerate(lines) if needle in l)
notice = first("NON_DEPARTURE_NOTICE")
assert all(notice < first(c) for c in ("BG-P-41", "BG-P-42", "BG-P-43")), lines
assert first("BG-P-41") < first("BG-P-42") < first("BG-P-43"), lines
PY
check "NG received the notice before the three queued earlier, and those in order" 0 $?
as bg-nrm contingency end "$cid" --sign-key keys/bg-nrm.sign.key >end.out 2>&1
check "BG's coordinator ends it" 0 $?
contains "the end lists what was deferred" "BG-P-30 REFERRAL_ACK_DUE owed by ng-naptip to bg-ngo, due .* (extended by 1h)" end.out
wait_log "NG learns the end" ng.log "contingency $cid for the country NG .* to 20"
send bg-ngo ng-naptip BG-P-32 consent-record --consent C-BG-P-32 --outcome consent-granted \
  --expires-in 1000h
check "once it ended, the usual lifetime again" 1 $?
"$TRMCTL" audit trail --node "127.0.0.1:$ng_port" --ca pki/ca.crt --cert pki/auditor-grevio.crt \
  --key pki/auditor-grevio.key --directory directory.signed --authority-pub keys/authority.sign.pub \
  --kind CONTINGENCY_DECLARED >trail.out 2>&1
check "NG's trail of declarations" 0 $?
contains "NG's audit log has BG's declaration" "CONTINGENCY_DECLARED.*bg" trail.out
exit $fail
