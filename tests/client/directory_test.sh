#!/usr/bin/env bash
# trmctl directory: create a source, sign it, inspect it, diff two versions,
# and every refusal a federation authority meets, with its exit code.
set -u
CHECKS=$(cd "$(dirname "$0")/.." && pwd)/checks.sh
TRMCTL=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
source "$CHECKS"

mkdir keys
for o in authority other-authority bg-node bg-ngo bg-ngo-2027; do
  "$TRMCTL" keygen --org $o --dir keys >/dev/null || { echo "FAIL: keygen"; exit 1; }
done
"$TRMCTL" directory create --federation trm-eu --out spec.json >out 2>&1; check create 0 $?
contains "starting source" '"serial": 1' spec.json
"$TRMCTL" --json directory create --federation trm-eu --out spec.json >out 2>&1
check "create never overwrites a source" 1 $?
python3 -c 'import json; d=json.load(open("out")); assert d["reason"] == "OUTPUT_EXISTS"' 2>/dev/null
check "create over a source: one JSON object with the reason" 0 $?
"$TRMCTL" --json directory create --federation trm-eu --out other.json >out 2>&1
check "create --json" 0 $?
python3 -c 'import json; d=json.load(open("out")); assert d["ok"] is True and d["out"] == "other.json"' 2>/dev/null
check "create --json prints one JSON object" 0 $?

python3 - <<'PY'
import json
s = json.load(open("spec.json"))
s["nodes"] = [{"id": "bg", "country": "BG", "endpoint": "bg.example:7400",
               "tls_identity": "trm://node/bg",
               "signing_keys": [{"public_key_file": "keys/bg-node.sign.pub"}]}]
s["organisations"] = [{"id": "bg-ngo", "home_node": "bg", "roles": ["NGO"],
                       "tls_identity": "trm://org/bg-ngo",
                       "signing_keys": [{"public_key_file": "keys/bg-ngo.sign.pub",
                                         "valid_from": "2026-01-01T00:00:00Z"}],
                       "encryption_keys": [{"public_key_file": "keys/bg-ngo.enc.pub"}]}]
s["auditors"] = [{"id": "grevio", "tls_identity": "trm://auditor/grevio", "scope": "ALL_NODES"}]
json.dump(s, open("spec.json", "w"), indent=2)
# Version 2: key rotation, a revoked key, a new node.
s["serial"] = 2
s["nodes"].append({"id": "ng", "country": "NG", "endpoint": "ng.example:7400"})
s["organisations"][0]["signing_keys"][0]["valid_until"] = "2027-02-01T00:00:00Z"
s["organisations"][0]["signing_keys"].append(
    {"public_key_file": "keys/bg-ngo-2027.sign.pub", "valid_from": "2027-01-01T00:00:00Z"})
json.dump(s, open("spec2.json", "w"), indent=2)
PY

"$TRMCTL" directory sign --in spec.json --authority-key keys/authority.sign.key --out d1.signed >out 2>&1
check sign 0 $?
contains "sign summary" "serial 1 (1 nodes, 1 organisations, 1 auditors)" out
"$TRMCTL" directory sign --in spec2.json --authority-key keys/authority.sign.key --out d2.signed >out 2>&1
check "sign version 2" 0 $?
"$TRMCTL" directory inspect --in d1.signed --authority-pub keys/authority.sign.pub >out 2>&1
check inspect 0 $?
contains "inspect shows the organisation" '"home_node": "bg"' out
contains "inspect shows key validity" "\"valid_from\": \"2026-01-01T00:00:00" out
# What inspect prints signs again to the same document (keys as PEM).
python3 -c 'import json; d = json.load(open("out")); d.pop("sha256"); json.dump(d, open("again.json", "w"))'
"$TRMCTL" directory sign --in again.json --authority-key keys/authority.sign.key --out again.signed >out 2>&1
check "inspect output signs again" 0 $?
"$TRMCTL" directory diff --authority-pub keys/authority.sign.pub d1.signed again.signed >out 2>&1
contains "round trip has no changes" "no changes" out

"$TRMCTL" directory diff --authority-pub keys/authority.sign.pub d1.signed d2.signed >out 2>&1
check diff 0 $?
contains "diff serial" "~ serial 1 -> 2" out
contains "diff new node" "+ node ng" out
contains "diff rotated key" "~ organisation bg-ngo: + signing key" out
contains "diff accepts newer" "a node would accept NEW after OLD" out
"$TRMCTL" directory diff --authority-pub keys/authority.sign.pub d2.signed d1.signed >out 2>&1
contains "diff refuses rollback" "DIRECTORY_STALE" out

# The federation's policy: periods per default, country and pair.
python3 - <<'PY'
import json
s = json.load(open("spec2.json"))
s["serial"] = 3
s["policy"] = {"version": 1, "max_retention_seconds": 259200,
               "periods": {"referral_ack": "72h"},
               "countries": {"NG": {"arrival_confirmation": "24h"}},
               "pairs": {"BG>NG": {"travel_notice_working_days": 7}}}
json.dump(s, open("spec3.json", "w"), indent=2)
s["serial"] = 4
s["policy"]["pairs"]["BG>NG"]["referral_ack"] = "48h"
json.dump(s, open("spec4-same-version.json", "w"), indent=2)
s["policy"]["version"] = 2
s["policy"]["contingency"] = {"failed_link": "pause",
                              "urgent_types": ["RISK_FEEDBACK", "NON_DEPARTURE_NOTICE"]}
json.dump(s, open("spec4.json", "w"), indent=2)
s["policy"]["contingency"] = {"failed_link": "wait"}
json.dump(s, open("bad-failed-link.json", "w"), indent=2)
s["policy"]["contingency"] = {"urgent_types": ["RISK_FEEDBACK", "DEADLINE_NOTICE"]}
json.dump(s, open("bad-urgent.json", "w"), indent=2)
s["policy"]["contingency"] = {"urgent_types": ["RISK_FEEDBACK", "RISK_FEEDBACK"]}
json.dump(s, open("twice-urgent.json", "w"), indent=2)
s["policy"].pop("contingency")
s["policy"]["pairs"]["BG>NG"]["reflection"] = "240h"
json.dump(s, open("bad-reflection.json", "w"), indent=2)
s["policy"]["pairs"]["BG>NG"].pop("reflection")
s["policy"]["version"] = 0
json.dump(s, open("bad-version.json", "w"), indent=2)
PY
for n in 3 4-same-version 4; do
  "$TRMCTL" directory sign --in spec$n.json --authority-key keys/authority.sign.key \
    --out d$n.signed >out 2>&1
  check "sign with a policy ($n)" 0 $?
done
"$TRMCTL" directory inspect --in d3.signed --authority-pub keys/authority.sign.pub >out 2>&1
check "inspect with a policy" 0 $?
python3 -c '
import json; p = json.load(open("out"))["policy"]
assert p == {"version": 1, "max_retention_seconds": 259200, "periods": {"referral_ack": "72h"},
             "countries": {"NG": {"arrival_confirmation": "24h"}},
             "pairs": {"BG>NG": {"travel_notice_working_days": 7}}}, p'
check "inspect shows the policy as it was written" 0 $?
"$TRMCTL" directory diff --authority-pub keys/authority.sign.pub d2.signed d3.signed >out 2>&1
check "diff adds a policy" 0 $?
contains "diff policy version" "~ policy version 0 -> 1" out
contains "diff policy period" "~ policy periods.referral_ack: (not set) -> 72h" out
contains "diff policy pair" "+ policy pairs.BG>NG" out
contains "diff policy retention" "~ policy max_retention: (each node's own) -> 72h" out
"$TRMCTL" directory diff --authority-pub keys/authority.sign.pub d3.signed d4.signed >out 2>&1
check "diff changes a policy" 0 $?
contains "diff changed pair period" "~ policy pairs.BG>NG.referral_ack: (not set) -> 48h" out
contains "diff accepts a raised version" "a node would accept NEW after OLD" out
contains "diff failed-link rule" "~ policy contingency.failed_link: (escalate_to_coordinators) -> pause" out
contains "diff urgent types" "~ policy contingency.urgent_types: (none) -> RISK_FEEDBACK,NON_DEPARTURE_NOTICE" out
"$TRMCTL" directory inspect --in d4.signed --authority-pub keys/authority.sign.pub >out 2>&1
python3 -c '
import json; p = json.load(open("out"))["policy"]
assert p["contingency"] == {"failed_link": "pause",
                            "urgent_types": ["RISK_FEEDBACK", "NON_DEPARTURE_NOTICE"]}, p'
check "inspect shows the failed-link rule and the urgent types" 0 $?
"$TRMCTL" directory sign --in bad-urgent.json --authority-key keys/authority.sign.key --out x.signed >out 2>&1
check "a node-written type is not urgent" 1 $?
contains "the urgent type named" 'policy.contingency.urgent_types\[1\]: give the name of a message type organisations send' out
"$TRMCTL" directory sign --in twice-urgent.json --authority-key keys/authority.sign.key --out x.signed >out 2>&1
check "an urgent type twice" 1 $?
contains "the repeat named" 'RISK_FEEDBACK is listed twice' out
"$TRMCTL" directory sign --in bad-failed-link.json --authority-key keys/authority.sign.key --out x.signed >out 2>&1
check "an unknown failed-link rule" 1 $?
contains "the rule named, with the choices" 'policy.contingency.failed_link: is .wait.; give "pause" or "escalate_to_coordinators"' out
"$TRMCTL" directory diff --authority-pub keys/authority.sign.pub d3.signed d4-same-version.signed >out 2>&1
contains "a changed policy needs a new version" "needs a higher policy version" out
"$TRMCTL" directory sign --in bad-reflection.json --authority-key keys/authority.sign.key --out x.signed >out 2>&1
check "a policy below the Convention" 1 $?
contains "policy period named" 'policy.pairs.BG>NG: "reflection" must be at least 720h' out
"$TRMCTL" directory sign --in bad-version.json --authority-key keys/authority.sign.key --out x.signed >out 2>&1
check "a policy without a version" 1 $?
contains "policy version named" "policy.version: give the policy a version" out

# Refusals.
"$TRMCTL" directory inspect --in d1.signed --authority-pub keys/other-authority.sign.pub >out 2>&1
check "other authority" 1 $?
contains "other authority reason" DIRECTORY_SIGNATURE_INVALID out
python3 -c '
d = bytearray(open("d1.signed", "rb").read()); d[40] ^= 1; open("bad.signed", "wb").write(d)'
"$TRMCTL" directory inspect --in bad.signed --authority-pub keys/authority.sign.pub >out 2>&1
check "tampered" 1 $?
contains "tampered reason" "DIRECTORY_SIGNATURE_INVALID\|DIRECTORY_MALFORMED" out
sed 's/"home_node": "bg"/"home_node": "xx"/' spec.json >bad.json
"$TRMCTL" directory sign --in bad.json --authority-key keys/authority.sign.key --out x.signed >out 2>&1
check "unknown home node" 1 $?
contains "inconsistent reason" "home node 'xx' is not listed" out
[ ! -e x.signed ]; check "nothing written on refusal" 0 $?
sed 's/"roles"/"rolez"/' spec.json >bad.json
"$TRMCTL" directory sign --in bad.json --authority-key keys/authority.sign.key --out x.signed >out 2>&1
check "unknown key" 1 $?
contains "unknown key path" 'organisations\[0\]: unknown key "rolez"' out
sed 's/"valid_from": "2026-01-01T00:00:00Z"/"valid_from": "yesterday"/' spec.json >bad.json
"$TRMCTL" directory sign --in bad.json --authority-key keys/authority.sign.key --out x.signed >out 2>&1
check "bad time" 1 $?
contains "bad time path" "organisations\[0\].signing_keys\[0\].valid_from" out
sed 's#keys/bg-ngo.enc.pub#keys/bg-ngo.sign.pub#' spec.json >bad.json
"$TRMCTL" directory sign --in bad.json --authority-key keys/authority.sign.key --out x.signed >out 2>&1
check "signing key given as encryption key" 1 $?
contains "wrong key type" "not an X25519 public key" out

exit $fail
