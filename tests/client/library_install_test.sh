#!/usr/bin/env bash
# The client library as an integrator meets it: installed with
# `cmake --install`, found with find_package(trm_client), the C++ program of
# docs/integration.md built against it and run against a real node with a
# signed directory. It sends a referral sealed to the recipient's key from
# the directory and checks the node's receipt with the directory's key; the
# recipient receives it with trmctl --config (keys from the directory too),
# and the sender's status shows the recipient's signed acknowledgement
# checked.
set -u
CHECKS=$(cd "$(dirname "$0")/.." && pwd)/checks.sh
BUILD=$(readlink -f "$1")
BROKER=$(readlink -f "$2")
TRMCTL=$(readlink -f "$3")
EXAMPLE=$(cd "$(dirname "$0")/../../docs/examples/cpp" && pwd)
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
source "$CHECKS"

cmake --install "$BUILD" --prefix "$work/prefix" >out 2>&1
check "cmake --install" 0 $?
for f in include/trm/client/client.h include/trm/client/payload_json.h \
  include/trm-broker/trm/v1/case.pb.h lib/libtrm_client.a \
  lib/cmake/trm_client/trm_clientConfig.cmake; do
  [ -f "prefix/$f" ]; check "installed $f" 0 $?
done
# Only the public headers: nothing of common/, server/ or client/ goes out.
[ -z "$(find prefix/include -name '*.h' -path '*common/*' -o -name '*.h' -path '*server/*')" ]
check "no internal headers installed" 0 $?
# docs/integration.md shows the program as it is built here.
python3 - "$EXAMPLE/send_referral.cc" "$EXAMPLE/../../integration.md" <<'PY'
import sys
code, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read()
sys.exit(0 if "```cpp\n" + code + "```" in doc else 1)
PY
check "docs/integration.md shows docs/examples/cpp/send_referral.cc as it is" 0 $?
{ cmake -S "$EXAMPLE" -B ex -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" &&
  cmake --build ex; } >out 2>&1
check "the example builds with find_package(trm_client)" 0 $?

mkdir keys inbox
for o in authority bg-node bg-ngo bg-naptip; do
  "$TRMCTL" --json keygen --org $o --dir keys >"keys/$o.json" || { echo "keygen failed"; exit 1; }
done
sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_sha256"])' "keys/$1.json"; }
python3 - <<'PY'
import json
def org(i):
    return {"id": i, "home_node": "bg", "roles": ["NGO"], "tls_identity": "trm://org/" + i,
            "signing_keys": [{"public_key_file": "keys/%s.sign.pub" % i}],
            "encryption_keys": [{"public_key_file": "keys/%s.enc.pub" % i}]}
json.dump({"federation": "trm-test", "serial": 1,
           "nodes": [{"id": "bg", "country": "BG", "endpoint": "127.0.0.1:1",
                      "signing_keys": [{"public_key_file": "keys/bg-node.sign.pub"}]}],
           "organisations": [org("bg-ngo"), org("bg-naptip")]}, open("spec.json", "w"))
PY
"$TRMCTL" directory sign --in spec.json --authority-key keys/authority.sign.key \
  --out directory.signed >out 2>&1
check "directory sign" 0 $?
cat >node.json <<JSON
{"node_id": "bg", "listen": "127.0.0.1:0", "data_dir": "data", "node_signing_key": "keys/bg-node.sign.key",
 "_case_rules": "transport test: the case rules have their own tests",
 "case_rules": {"enforce": false},
 "directory": "directory.signed", "authority_public_key": "keys/authority.sign.pub",
 "organisations": [{"id": "bg-ngo", "token_sha256": "$(sha bg-ngo)"},
                   {"id": "bg-naptip", "token_sha256": "$(sha bg-naptip)"}]}
JSON
"$BROKER" --config node.json --insecure-dev >broker.log 2>&1 &
pid=$!
port=""
for _ in $(seq 1 "$(polls 100)"); do
  port=$(sed -n 's/.*serving on 127.0.0.1:\([0-9]*\).*/\1/p' broker.log)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: broker did not start:"; cat broker.log; exit 1; }

# One profile per organisation: the node, its token, its keys, the
# directory. Relative paths are the profile's folder's.
profile() {
  cat >"$1.profile.json" <<JSON
{"node": "127.0.0.1:$port", "token_file": "keys/$1.token", "org": "$1", "home_node": "bg",
 "sign_key": "keys/$1.sign.key", "encryption_key": "keys/$1.enc.key",
 "directory": "directory.signed", "authority_pub": "keys/authority.sign.pub"}
JSON
}
profile bg-ngo
profile bg-naptip

ex/send_referral bg-ngo.profile.json bg-naptip BG-2026-31 C-31 >out 2>&1
check "the example sends a referral" 0 $?
contains "its receipt is checked with the directory's node key" "accepted by node bg, receipt valid" out
id=$(grep -oE '[0-9a-f]{32}' out | head -1)

ex/send_referral bg-ngo.profile.json it-nobody BG-2026-32 C-31 >out 2>&1
check "a recipient not in the directory" 1 $?
contains "is refused with its reason token" "^UNKNOWN_ORGANISATION: no organisation 'it-nobody' in the directory" out

"$TRMCTL" --config bg-naptip.profile.json receive --out-dir inbox --insecure-dev >out 2>&1
check "trmctl --config receive, the sender's key from the directory" 0 $?
contains "received and acknowledged" "received REFERRAL_REQUEST $id from bg-ngo (case BG-2026-31)" out
contains "the payload is the example's" 'shelter' "inbox/$id.payload"

"$TRMCTL" --config bg-ngo.profile.json status "$id" --insecure-dev >out 2>&1
check "trmctl --config status" 0 $?
contains "acknowledged" "ACKNOWLEDGED" out
contains "the signed acknowledgement is checked with the directory" "acknowledgement: valid, signed by bg-naptip" out

# A profile with a misspelt key says which.
echo '{"nod": "127.0.0.1:1"}' >bad.profile.json
"$TRMCTL" --json --config bad.profile.json status "$id" >out 2>&1
check "a profile with an unknown key" 1 $?
contains "names the key" 'CONFIG_INVALID: bad.profile.json: unknown key \\"nod\\"' out
exit $fail
