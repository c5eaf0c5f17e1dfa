#!/usr/bin/env bash
# The trm-broker demo: installs what is needed, builds, and shows the product:
#   1-5. envelopes: a Bulgarian NGO seals and signs a referral for a
#        receiving organisation in Nigeria; a node checks the header and the
#        signature without reading the payload; the recipient opens it; a
#        tampered copy, a wrong key and a wrong sender are refused.
#   6. a three-country federation on this machine (BG, NG, IT): a federation
#      CA, a signed directory (a coordinator and an NGO in each country, a
#      receiving organisation in NG, an auditor), three nodes on loopback with
#      mutual TLS and the TRM case rules; the directory carries the
#      federation's policy (periods), and a node looser than it is refused.
#   7. one trm-agent per organisation: each holds its organisation's keys
#      and serves the JSON API (its URL and a token are printed).
#   8. the return of a victim identified in Bulgaria to Nigeria, step by
#      step through the agents' API (each command shown), with receipts and
#      signed acknowledgements; steps that would endanger the person are
#      refused.
#   9. the case timeline and each message's delivery path; a late referral
#      acknowledgement escalated to the coordinator.
#  10. the federation publishes a new policy version: the diff, and every
#      node loading it; the directory's validity; the mechanism statistics.
#  11. the auditor exports the case's audit trail and verifies it offline,
#      and reads it across every node through the console's audit page.
# Usage: ./scripts/demo.sh [--once]   (--once stops the federation at the
# end; otherwise it keeps running and the last line says how to stop it).
# Demo files go to ./demo-run/ (replaced on each run; a federation a
# previous run left running is stopped first).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
once=0
for a in "$@"; do
  case "$a" in
    --once) once=1 ;;
    *) echo "usage: $0 [--once]" >&2; exit 2 ;;
  esac
done

./scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target trmctl trm-broker trm-agent
trmctl="$root/build/default/client/trmctl"
agent="$root/build/default/client/trm-agent"
broker="$root/build/default/server/trm-broker"

run="$root/demo-run"
if [ -f "$run/stop.sh" ]; then bash "$run/stop.sh" >/dev/null 2>&1 || true; fi
rm -rf "$run"
mkdir -p "$run/keys"
cd "$run"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

say "1. Keys for two organisations (private keys are written 0600)"
show "$trmctl" keygen --org bg-ngo-animus --dir keys
show "$trmctl" keygen --org ng-naptip --dir keys

say "2. The Bulgarian NGO seals and signs a referral for NAPTIP in Nigeria"
echo "(the payload in JSON; trmctl case payload --type referral-request prints an example)"
cat >referral.json <<'JSON'
{"needs": ["safe accommodation on arrival", "medical follow-up", "vocational training"],
 "services_requested": ["reception at Lagos airport", "reintegration assistance"],
 "reason": "the person asked to return; risk assessment to follow"}
JSON
cat referral.json
show "$trmctl" seal --type referral-request --case BG-2026-000123 \
  --from bg-ngo-animus@bg --to ng-naptip@ng --consent CONSENT-7 \
  --sign-key keys/bg-ngo-animus.sign.key --recipient-pub keys/ng-naptip.enc.pub \
  --payload referral.json --out referral.env
if grep -q "accommodation" referral.env; then
  echo "demo: the payload is readable in the envelope" >&2
  exit 1
fi
echo "(the payload text does not appear anywhere in referral.env)"

say "3. A node reads the header and checks the sender's signature; it cannot read the payload"
show "$trmctl" inspect --in referral.env --sender-pub keys/bg-ngo-animus.sign.pub

say "4. NAPTIP verifies the signature and opens the referral"
show "$trmctl" open --in referral.env --sender-pub keys/bg-ngo-animus.sign.pub \
  --recipient-key keys/ng-naptip.enc.key --out referral.opened
show "$trmctl" case payload --type referral-request --show referral.opened
"$trmctl" case payload --type referral-request --from-json referral.json --out referral.sent >/dev/null
cmp -s referral.sent referral.opened

say "5. What is refused, and why"
python3 - <<'PY'
data = bytearray(open("referral.env", "rb").read())
data[len(data) - 100] ^= 0x01   # one bit inside the sealed payload
open("tampered.env", "wb").write(data)
PY
echo "-- a copy with one bit flipped in transit:"
if "$trmctl" open --in tampered.env --sender-pub keys/bg-ngo-animus.sign.pub \
  --recipient-key keys/ng-naptip.enc.key --out tampered.txt; then
  echo "demo: the tampered copy was accepted" >&2
  exit 1
fi
echo "-- the NGO itself trying to open what it sealed for NAPTIP:"
if "$trmctl" open --in referral.env --sender-pub keys/bg-ngo-animus.sign.pub \
  --recipient-key keys/bg-ngo-animus.enc.key --out wrong.txt; then
  echo "demo: opened with the wrong key" >&2
  exit 1
fi
echo "-- checking the signature against the wrong organisation's key:"
if "$trmctl" inspect --in referral.env --sender-pub keys/ng-naptip.sign.pub; then
  echo "demo: the wrong sender key was accepted" >&2
  exit 1
fi

say "6. A federation of three countries: CA, signed directory, three nodes with mutual TLS"
pki() { bash "$root/deploy/pki/make-pki.sh" pki "$@" >/dev/null; }
# Chosen with all three sockets open, so the ports differ (two separate
# bind(0) calls can return the same one).
read -r p_bg p_ng p_it < <(python3 -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
declare -A port=([bg]=$p_bg [ng]=$p_ng [it]=$p_it)
orgs="bg-nrm bg-ngo ng-naptip ng-ngo ng-reception it-nrm it-ngo"
pki ca "TRM demo federation CA"
for n in bg ng it; do pki node $n; "$trmctl" keygen --org $n-node --dir keys >/dev/null; done
for o in $orgs; do  # ng-naptip has its keys from step 1
  pki org $o; [ -f keys/$o.sign.key ] || "$trmctl" keygen --org $o --dir keys >/dev/null
done
pki auditor grevio
"$trmctl" keygen --org authority --dir keys >/dev/null
echo "keys, certificates: $(ls pki | wc -l) files in pki/ (private keys 0600)"
python3 - "${port[bg]}" "${port[ng]}" "${port[it]}" <<'PY'
import json, sys
ports = dict(zip(["bg", "ng", "it"], sys.argv[1:]))
country = {"bg": "BG", "ng": "NG", "it": "IT"}
orgs = [("bg-nrm", "NATIONAL_COORDINATOR", "Bulgaria NRM coordinator"),
        ("bg-ngo", "NGO", "Bulgarian NGO"),
        ("ng-naptip", "NATIONAL_COORDINATOR", "NAPTIP, Nigeria"),
        ("ng-ngo", "NGO", "Nigerian NGO"),
        ("ng-reception", "RECEIVING_ORGANISATION", "Lagos reception centre"),
        ("it-nrm", "NATIONAL_COORDINATOR", "Italy NRM coordinator"),
        ("it-ngo", "NGO", "Italian NGO")]
doc = {"federation": "trm-demo", "serial": 1,
       "nodes": [{"id": n, "country": country[n], "endpoint": "127.0.0.1:" + p,
                  "tls_identity": "trm://node/" + n,
                  "signing_keys": [{"public_key_file": "keys/%s-node.sign.pub" % n}]}
                 for n, p in ports.items()],
       "organisations": [{"id": o, "home_node": o.split("-")[0], "roles": [r], "display_name": d,
                          "tls_identity": "trm://org/" + o,
                          "signing_keys": [{"public_key_file": "keys/%s.sign.pub" % o}],
                          "encryption_keys": [{"public_key_file": "keys/%s.enc.pub" % o}]}
                         for o, r, d in orgs],
       "auditors": [{"id": "grevio", "tls_identity": "trm://auditor/grevio", "scope": "ALL_NODES"}],
       # The federation's policy: every node sets the same deadlines. A short
       # acknowledgement period for IT->NG, to show an escalation.
       "policy": {"version": 1, "pairs": {"IT>NG": {"referral_ack": "4s"}}}}
json.dump(doc, open("directory.json", "w"), indent=1)
for n, p in ports.items():
    json.dump({"node_id": n, "listen": "127.0.0.1:" + p, "data_dir": "data-" + n,
               "node_signing_key": "keys/%s-node.sign.key" % n,
               "directory": "directory.signed", "authority_public_key": "keys/authority.sign.pub",
               "tls": {"ca": "pki/ca.crt", "cert": "pki/node-%s.crt" % n, "key": "pki/node-%s.key" % n},
               "relay": {"max_backoff_seconds": 2},
               # BG asks for answers within 48 h: stricter than the policy's 72 h.
               "case_rules": {"enforce": True,
                              "periods": {"referral_ack": "48h"} if n == "bg" else {}}},
              open(n + ".json", "w"), indent=1)
# A node that wants longer than the federation allows does not start.
loose = json.load(open("it.json"))
loose["case_rules"]["periods"] = {"referral_ack": "96h"}
json.dump(loose, open("it-too-loose.json", "w"), indent=1)
PY
show "$trmctl" directory sign --in directory.json --authority-key keys/authority.sign.key \
  --out directory.signed
echo "-- the directory carries the federation's policy; a node may be stricter, never looser:"
echo "\$ $broker --config it-too-loose.json --check-config"
if "$broker" --config it-too-loose.json --check-config >loose.out 2>&1; then
  echo "demo: a node looser than the federation's policy was accepted" >&2; exit 1
fi
sed 's/^/  /' loose.out
for n in bg ng it; do cp keys/$n-node.sign.pub keys/$n.sign.pub; done  # to open node notices
pids=""
for n in bg ng it; do
  "$broker" --config $n.json >$n.log 2>&1 &
  pids="$pids $!"
done
write_stop() {
  cat >stop.sh <<SH
#!/usr/bin/env bash
# Stops the demo federation and its agents (a clean stop: each node logs
# NODE_STOPPED).
for p in$pids; do kill -TERM \$p 2>/dev/null; done
for p in$pids; do while kill -0 \$p 2>/dev/null; do sleep 0.1; done; done
exit 0
SH
}
write_stop
trap '[ $once = 1 ] || [ -z "${done_ok:-}" ] && bash "$run/stop.sh"' EXIT
for n in bg ng it; do
  for _ in $(seq 1 100); do grep -q "serving on" $n.log && break; sleep 0.1; done
  grep "serving on" $n.log || { echo "demo: node $n did not start" >&2; cat $n.log; exit 1; }
done

node_of() { echo "${1%%-*}"; }

say "7. One trm-agent per organisation, each with its own keys, store and JSON API"
declare -A url token role
for o in $orgs; do
  n=$(node_of "$o")
  mkdir -p "agent-$o"
  cat >"agent-$o/client.json" <<JSON
{"node": "127.0.0.1:${port[$n]}", "ca": "../pki/ca.crt", "cert": "../pki/org-$o.crt",
 "key": "../pki/org-$o.key", "org": "$o", "home_node": "$n",
 "sign_key": "../keys/$o.sign.key", "encryption_key": "../keys/$o.enc.key",
 "directory": "../directory.signed", "authority_pub": "../keys/authority.sign.pub"}
JSON
  # The Bulgarian coordinator's agent also carries the auditor grevio's
  # page: grevio's certificate and every node in its scope.
  audit=""
  [ "$o" = bg-nrm ] && audit=", \"audit\": {\"cert\": \"../pki/auditor-grevio.crt\",
 \"key\": \"../pki/auditor-grevio.key\", \"nodes\": [{\"node\": \"bg\", \"address\": \"127.0.0.1:${port[bg]}\"},
 {\"node\": \"ng\", \"address\": \"127.0.0.1:${port[ng]}\"}, {\"node\": \"it\", \"address\": \"127.0.0.1:${port[it]}\"}]}"
  cat >"agent-$o/agent.json" <<JSON
{"profile": "client.json", "listen": "127.0.0.1:0", "data_dir": "store",
 "users_file": "users.json", "watch_seconds": 2$audit}
JSON
  token[$o]=$("$agent" user add --users "agent-$o/users.json" --name caseworker \
    --role caseworker 2>/dev/null)
  # A sign-in for the console (a demo password: make your own for real use):
  # a coordinator at the national coordinators, a caseworker elsewhere.
  role[$o]=caseworker
  case $o in bg-nrm|ng-naptip|it-nrm) role[$o]=coordinator ;; esac
  echo "demo password $o" | "$agent" user add --users "agent-$o/users.json" --name demo \
    --role "${role[$o]}" --password-stdin >/dev/null 2>&1
  if [ "$o" = bg-nrm ]; then
    auditor_token=$("$agent" user add --users "agent-$o/users.json" --name grevio-api \
      --role auditor 2>/dev/null)
    echo "demo password grevio" | "$agent" user add --users "agent-$o/users.json" \
      --name grevio --role auditor --password-stdin >/dev/null 2>&1
  fi
  "$agent" --config "agent-$o/agent.json" >"agent-$o/agent.log" 2>&1 &
  pids="$pids $!"
done
write_stop
for o in $orgs; do
  for _ in $(seq 1 100); do grep -q "API at" "agent-$o/agent.log" && break; sleep 0.1; done
  url[$o]=$(sed -n 's|.*API at \(http:[^ ]*\)/api/v1/ .*|\1|p' "agent-$o/agent.log")
  [ -n "${url[$o]}" ] || { echo "demo: the agent of $o did not start" >&2; cat "agent-$o/agent.log"; exit 1; }
  printf '  %-13s %s  token %s\n' "$o" "${url[$o]}/api/v1/" "${token[$o]}"
  printf '  %-13s console %s  sign in as demo / "demo password %s" (%s)\n' "" \
    "${url[$o]}/console/" "$o" "${role[$o]}"
done
printf '  %-13s console %s  sign in as grevio / "demo password grevio" (auditor: the trail across BG, NG and IT)\n' \
  "" "${url[bg-nrm]}/console/#/audit"
echo "(each token is shown once here; GET /api/v1/openapi.json lists the API: docs/integration.md;"
echo " the console is described in docs/console.md)"

as() {  # as ORG trmctl-args...: trmctl against ORG's node, with ORG's certificate
  local org=$1; shift; local n; n=$(node_of "$org")
  "$trmctl" "$@" --node "127.0.0.1:${port[$n]}" --ca pki/ca.crt --cert pki/org-$org.crt \
    --key pki/org-$org.key
}
trust=(--directory directory.signed --authority-pub keys/authority.sign.pub)
ids=()
# api ORG METHOD PATH [BODY_FILE]: one call to ORG's agent, its answer on
# stdout; with a body, the command is shown first (on stderr).
api() {
  local org=$1 method=$2 path=$3 body=${4:-}
  if [ -n "$body" ]; then
    printf '$ curl -s -X %s -H "Authorization: Bearer $%s_TOKEN" --data @%s %s%s\n' \
      "$method" "$(tr 'a-z-' 'A-Z_' <<<"$org")" "$body" "${url[$org]}" "$path" >&2
    curl -s -X "$method" -H "Authorization: Bearer ${token[$org]}" \
      -H "Content-Type: application/json" --data "@$body" "${url[$org]}$path"
  else
    curl -s -X "$method" -H "Authorization: Bearer ${token[$org]}" "${url[$org]}$path"
  fi
}
# py EXPR ARGS...: prints the Python expression EXPR over the ARGS (a[0], ...).
py() { local expr=$1; shift; python3 -c "import json, sys; a = sys.argv[1:]; print($expr)" "$@"; }
# send FROM TO TYPE PAYLOAD_JSON [--consent REF] [--outcome NAME]: through
# FROM's agent. The header's outcome, departure and a consent record's
# reference are taken from the payload. TO's agent pulls the message,
# verifies and stores it, and acknowledges it with its signature: the demo
# waits for it there and shows it opened.
send() {
  local from=$1 to=$2 type; type=$(tr 'a-z-' 'A-Z_' <<<"$3"); local payload=$4; shift 4
  local extra='{}'
  while [ $# -gt 0 ]; do
    case "$1" in
      --consent) extra=$(py 'json.dumps(dict(json.loads(a[1]), consent_ref=a[0]))' "$2" "$extra"); shift 2 ;;
      --outcome) extra=$(py 'json.dumps(dict(json.loads(a[1]), outcome=a[0].upper().replace("-", "_")))' "$2" "$extra"); shift 2 ;;
      *) echo "demo: send: unknown flag $1" >&2; exit 2 ;;
    esac
  done
  local body; body=$(tr 'A-Z_' 'a-z-' <<<"$type").json
  py 'json.dumps(dict(type=a[0], case_ref=a[1], recipient_org=a[2], payload=json.loads(a[3]), **json.loads(a[4])))' \
    "$type" "$case_ref" "$to" "$payload" "$extra" >"$body"
  local out; out=$(api "$from" POST /api/v1/messages "$body")
  echo "    $(cat "$body")"
  local id; id=$(py 'json.loads(a[0]).get("message_id", "")' "$out" 2>/dev/null)
  if [ -z "$id" ]; then
    py '"    refused: %s: %s" % (json.loads(a[0])["reason"], json.loads(a[0])["message"])' "$out" 2>/dev/null ||
      echo "    no answer from $from's agent: $out"
    return 1
  fi
  py '"    sent %s %s, accepted by node %s, receipt %s" % (json.loads(a[0])["header"]["type"], a[1], json.loads(a[0])["node"], json.loads(a[0])["receipt_check"])' "$out" "$id"
  ids+=("$from $id")
  local msg=""
  for _ in $(seq 1 100); do
    msg=$(api "$to" GET "/api/v1/messages/$id")
    if grep -q '"payload":' <<<"$msg"; then
      py '"    %s: received from %s, verified, stored, acknowledged; opened: %s" % (a[0], json.loads(a[1])["header"]["sender_org"], json.dumps(json.loads(a[1])["payload"]))' "$to's agent" "$msg"
      return 0
    fi
    sleep 0.1
  done
  echo "demo: $to's agent did not receive $type: $msg" >&2; return 1
}
refused() {  # refused FROM TO TYPE PAYLOAD_JSON [flags...]: the node must refuse it
  if send "$@" >refused.out 2>&1; then
    echo "demo: a step the rules forbid was accepted" >&2; cat refused.out; exit 1
  fi
  cat refused.out
}
case_ref=BG-2026-000123
departure=$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc)+d.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"))')

say "8. The return of a victim identified in Bulgaria (case BG-2026-000123) to Nigeria"
echo "-- no data to Nigeria before the person consents:"
refused bg-ngo ng-reception referral-request '{"needs": ["shelter"]}' --consent CONSENT-7
send bg-ngo ng-reception consent-record \
  '{"granted": true, "consent_ref": "CONSENT-7", "recipient_org": "ng-reception",
    "purpose": "voluntary return and reintegration"}'
send bg-ngo ng-reception referral-request \
  '{"needs": ["shelter", "medical"], "reason": "the person asked to return",
    "case_manager": {"name": "Maria Petrova"}}' --consent CONSENT-7
echo "-- each node sets the acknowledgement deadline and names the rule behind it (BG's own 48 h"
echo "   is stricter than the federation's 72 h; NG applies the federation's):"
for o in bg-ngo ng-reception; do
  for _ in $(seq 1 50); do
    as $o case show BG-2026-000123 >show.out 2>&1 && grep -q "REFERRAL_ACK_DUE" show.out && break
    sleep 0.1
  done
  printf '  %-3s ' "$(node_of $o)"; grep -m1 -o "REFERRAL_ACK_DUE by .*\]" show.out || cat show.out
done
send ng-reception bg-ngo referral-ack \
  '{"accepted": true, "contact": {"name": "Ada Obi", "role": "case manager", "phone": "+234 1 000 0000"}}'
echo "-- only the case owner (bg-ngo) speaks for the person's consent, and each side sends its own steps:"
refused ng-reception bg-ngo consent-record '{"granted": true, "consent_ref": "C-NG"}'
refused ng-reception bg-ngo risk-assessment '{"threat_to_life_or_health": false, "re_trafficking_risk": "low"}'
echo "-- no travel before a risk assessment and an agreed reintegration plan:"
refused bg-ngo ng-reception travel-arrangement \
  "{\"departure\": \"$departure\", \"itinerary\": \"SOF-IST-LOS\"}" --consent CONSENT-7
send bg-ngo ng-reception risk-assessment \
  '{"threat_to_life_or_health": false, "re_trafficking_risk": "low", "retaliation_risk": "low"}' \
  --consent CONSENT-7
send ng-reception bg-ngo risk-feedback '{"agrees": true, "local_safety_measures": "shelter address kept confidential"}'
send bg-ngo ng-reception reintegration-plan \
  '{"agreed": true, "goals": ["vocational training"], "services": ["housing"]}' --consent CONSENT-7
echo "-- the receiving organisation must get 5 working days' notice:"
refused bg-ngo ng-reception travel-arrangement \
  "{\"departure\": \"$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)\", \"itinerary\": \"SOF-IST-LOS\"}" \
  --consent CONSENT-7
echo "-- a header cannot say what its payload does not (the outcome is taken from the payload):"
refused bg-ngo ng-reception risk-assessment '{"threat_to_life_or_health": true}' \
  --consent CONSENT-7 --outcome risk-acceptable
send bg-ngo ng-reception travel-arrangement \
  "{\"departure\": \"$departure\", \"itinerary\": \"SOF-IST-LOS\", \"reception_point\": \"Lagos airport\"}" \
  --consent CONSENT-7
send ng-reception bg-ngo arrival-confirmation '{"remarks": "arrived safely"}'
send ng-reception bg-ngo handover-confirmation '{"received_by": {"name": "Ada Obi"}}'
send ng-reception bg-ngo monitoring-report '{"progress": "in training, housed", "concerns": false}'
send bg-ngo ng-reception case-closure '{"reason": "COMPLETED", "outcome": "reintegrated"}'

say "9. The case timeline (BG's coordinator) and each message's delivery path"
show "$trmctl" case timeline BG-2026-000123 --node "127.0.0.1:${port[bg]}" --ca pki/ca.crt \
  --cert pki/org-bg-nrm.crt --key pki/org-bg-nrm.key
echo "-- the NGO's own view through its agent, with the content of what it received:"
echo "\$ curl -s -H \"Authorization: Bearer \$BG_NGO_TOKEN\" ${url[bg-ngo]}/api/v1/cases/BG-2026-000123/timeline"
api bg-ngo GET /api/v1/cases/BG-2026-000123/timeline >timeline.json
python3 - <<'PY'
import json
t = json.load(open("timeline.json"))
print("state %s; next: %s" % (t["state"], t["next_step"]))
for s in t["timeline"]:
    shown = "  " + json.dumps(s["payload"]) if s["type"] == "REFERRAL_ACK" and "payload" in s else ""
    print("  %s %-22s %s -> %s%s" % (s["time"], s["type"], s["sender_org"], s["recipient_org"], shown))
PY
echo "-- where each message is, from its sender's node, each piece of evidence checked:"
for entry in "${ids[@]}"; do
  read -r from id <<<"$entry"
  for _ in $(seq 1 50); do
    as "$from" status "$id" "${trust[@]}" >status.out 2>&1 || true
    grep -q ": ACKNOWLEDGED" status.out && break; sleep 0.1
  done
  head -1 status.out
done
echo "-- in full, for the referral:"
read -r from id <<<"${ids[1]}"
as "$from" status "$id" "${trust[@]}"
echo "-- an Italian NGO refers another person to Nigeria; nobody answers within IT>NG's 4 s:"
case_ref=IT-2026-000042
send it-ngo ng-reception consent-record '{"granted": true, "consent_ref": "C-IT-1"}'
send it-ngo ng-reception referral-request '{"needs": ["shelter"]}' --consent C-IT-1
echo "-- the node escalates; the Italian coordinator's agent receives the notice:"
for _ in $(seq 1 300); do
  api it-nrm GET "/api/v1/messages?type=DEADLINE_NOTICE" >notices.json
  grep -q IT-2026-000042 notices.json && break
  sleep 0.1
done
grep -q IT-2026-000042 notices.json || { echo "demo: no escalation reached it-nrm" >&2; exit 1; }
python3 -c 'import json; [print("  %s %s from %s, case %s" % (m["created"], m["type"], m["sender_org"], m["case_ref"])) for m in json.load(open("notices.json"))]' 
show "$trmctl" case overdue --node "127.0.0.1:${port[it]}" --ca pki/ca.crt \
  --cert pki/org-it-nrm.crt --key pki/org-it-nrm.key

echo "-- the notice names the policy that set the deadline:"
show "$trmctl" case show IT-2026-000042 --node "127.0.0.1:${port[it]}" --ca pki/ca.crt \
  --cert pki/org-it-ngo.crt --key pki/org-it-ngo.key

say "10. The federation changes its policy: a new signed directory, loaded by every node"
python3 - <<'PY'
import datetime, json
d = json.load(open("directory.json"))
d["serial"] = 2
# Valid for 90 days: nodes warn 14 days before, and after it take no new
# cases once the 7-day grace period is over.
d["valid_until"] = (datetime.datetime.now(datetime.timezone.utc) +
                    datetime.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
d["policy"] = {"version": 2, "pairs": {"IT>NG": {"referral_ack": "4s"}},
               "countries": {"NG": {"arrival_confirmation": "24h"}},
               "max_retention_seconds": 1209600,
               "contingency": {"failed_link": "pause",
                               "deadline_extension_seconds": 86400,
                               "urgent_types": ["RISK_FEEDBACK", "NON_DEPARTURE_NOTICE"]}}
json.dump(d, open("directory-2.json", "w"), indent=1)
PY
"$trmctl" directory sign --in directory-2.json --authority-key keys/authority.sign.key \
  --out directory-2.signed >/dev/null
show "$trmctl" directory diff --authority-pub keys/authority.sign.pub directory.signed directory-2.signed
cp directory-2.signed directory.next && mv directory.next directory.signed
for n in bg ng it; do
  for _ in $(seq 1 100); do grep -q "federation policy version 2" $n.log && break; sleep 0.1; done
  grep -q "federation policy version 2" $n.log || { echo "demo: $n did not load policy 2" >&2; cat $n.log; exit 1; }
  printf '  %-3s %s\n' $n "$(grep -o "directory serial 2 loaded.*" $n.log | sed 's/ (sha256 [0-9a-f]*)//')"
done
echo "-- the coordinator sees the directory's validity in the node's status:"
as bg-nrm node status | grep "^directory:"
echo "-- and reads how the mechanism performed, from case metadata only (counts below 5 are"
echo "   shown as <5, and totals leave them out; docs/security.md says why):"
month=$(date -u +%Y-%m)
echo "\$ trmctl stats --from $month --to $month   (the first rows of 33 measures)"
as bg-nrm stats --from "$month" --to "$month" | sed -n '1,10p'
echo "-- each coordinator exports its node's report signed; a regional secretariat checks each"
echo "   against the signed directory and combines them, every route counted once:"
for o in bg-nrm ng-naptip it-nrm; do
  as $o stats --from "$month" --to "$month" --export "$(node_of $o).stats" >/dev/null
done
show "$trmctl" stats aggregate bg.stats ng.stats it.stats "${trust[@]}" | sed -n '1,19p'
echo "-- a crisis in Nigeria: BG's coordinator declares a contingency, signed with its key. BG"
echo "   audits it and carries it to NG and IT; while it holds, deadlines on routes to NG pass"
echo "   the policy's 24 h later, a deadline owed across a failed link pauses, and risk"
echo "   feedback and non-departure notices for NG are relayed before the rest of the queue:"
echo "\$ trmctl contingency declare --from bg-nrm@bg --country NG --reason ... --sign-key keys/bg-nrm.sign.key"
as bg-nrm --json contingency declare --from bg-nrm@bg --country NG \
  --reason "flooding in Lagos: NAPTIP offices closed for a week" \
  --sign-key keys/bg-nrm.sign.key >contingency.json
cid=$(python3 -c 'import json; print(json.load(open("contingency.json"))["contingencies"][0]["id"])')
for _ in $(seq 1 200); do grep -q "contingency $cid" it.log && break; sleep 0.1; done
echo "\$ trmctl contingency list   (at IT, as it-nrm)"
as it-nrm contingency list
echo "\$ trmctl contingency end $cid --sign-key keys/bg-nrm.sign.key"
as bg-nrm contingency end "$cid" --sign-key keys/bg-nrm.sign.key

say "11. The auditor exports the case's trail from BG and verifies it offline"
show "$trmctl" audit export --node "127.0.0.1:${port[bg]}" --ca pki/ca.crt \
  --cert pki/auditor-grevio.crt --key pki/auditor-grevio.key "${trust[@]}" \
  --case BG-2026-000123 --out bg-trail.bundle
echo "\$ $trmctl audit verify bg-trail.bundle ${trust[*]}   (last lines)"
"$trmctl" audit verify bg-trail.bundle "${trust[@]}" | tail -n 4
echo "-- the auditor reads BG's statistics too (its scope covers every node). Step 5's"
echo "   refusals are counted by case rule, each below 5, so shown only as <5:"
echo "\$ trmctl stats --from $month --to $month --csv --cert pki/auditor-grevio.crt ...   (three rules)"
"$trmctl" stats --from "$month" --to "$month" --csv --node "127.0.0.1:${port[bg]}" --ca pki/ca.crt \
  --cert pki/auditor-grevio.crt --key pki/auditor-grevio.key |
  grep -E "^bg,refused_(consent_required|risk_assessment_required|notice_too_short),BG>NG,\*,"
echo "-- the same case across every node, checked by the auditor's page (bg-nrm's agent):"
printf '$ curl -s -H "Authorization: Bearer $GREVIO_TOKEN" %s/api/v1/audit/trail?case=BG-2026-000123\n' "${url[bg-nrm]}"
curl -s -H "Authorization: Bearer $auditor_token" \
  "${url[bg-nrm]}/api/v1/audit/trail?case=BG-2026-000123" >audit-trail.json
python3 - audit-trail.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
if "nodes" not in t:
    sys.exit("demo: the auditor's trail failed: %s" % t)
for n in t["nodes"]:
    print("  node %-3s %-11s log of %s entries, %s of them this case's" %
          (n["node"], n["state"], n.get("tree_size", "?"), n.get("entries", 0)))
print("  flows: " + ", ".join("%s -> %s: %d" % (f["from"], f["to"], f["messages"])
                              for f in t["flows"]))
print("  every proof verified in the agent" if t["verified"] else
      "  NOT VERIFIED: see each node above")
sys.exit(0 if t["verified"] else 1)
PY

done_ok=1
trap - EXIT
if [ $once = 1 ]; then
  bash stop.sh
  say "Done; the federation is stopped. Files are in $run"
else
  say "Done. The federation keeps running: BG 127.0.0.1:${port[bg]}, NG 127.0.0.1:${port[ng]}, IT 127.0.0.1:${port[it]}"
  echo "Each organisation's agent serves its API (URLs and tokens in step 7), e.g.:"
  echo "  curl -s -H \"Authorization: Bearer ${token[bg-ngo]}\" ${url[bg-ngo]}/api/v1/cases"
  echo "and its console: ${url[bg-ngo]}/console/ (sign in as demo / \"demo password bg-ngo\")"
  echo "Stop it with: bash $run/stop.sh    (files are in $run)"
fi
echo "Next: ./scripts/test.sh runs the whole test suite; docs/workflow.md describes the case rules."
