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
