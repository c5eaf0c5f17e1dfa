#!/usr/bin/env bash
# Onboarding where nobody else ever holds an organisation's private keys:
# trmctl org init makes the keys and a certificate request, the CA signs the
# request (deploy/pki/make-pki.sh sign), the directory authority signs the
# printed entry, and the organisation then sends and receives over mutual
# TLS with its own keys. The CA's and the authority's folders never see a
# private key of the organisation.
set -u
CHECKS=$(cd "$(dirname "$0")/.." && pwd)/checks.sh
BROKER=$(readlink -f "$1")
TRMCTL=$(readlink -f "$2")
PKI=$(cd "$(dirname "$0")/../../deploy/pki" && pwd)/make-pki.sh
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
source "$CHECKS"

# The organisation's machine.
"$TRMCTL" org init --org bg-ngo --home-node bg --role ngo --display-name "Animus" --dir org >out 2>&1
check "org init" 0 $?
contains "says what stays private" "private, 0600, never leave this machine" out
contains "says what to send" "bg-ngo.csr .*to the federation CA" out
for f in sign.key enc.key tls.key; do
  [ "$(stat -c %a "org/bg-ngo.$f")" = 600 ]; check "org/bg-ngo.$f is 0600" 0 $?
done
"$TRMCTL" org init --org bg-ngo --home-node bg --role ngo --dir org >out 2>&1
check "a second org init" 1 $?
contains "never overwrites a key" "KEY_FILE_EXISTS" out
"$TRMCTL" org init --org bg-ngo --home-node bg --role shelter --dir other >out 2>&1
check "an unknown role" 2 $?
contains "lists the roles" "use national-coordinator, ngo, receiving-organisation" out
"$TRMCTL" org init --org "BG NGO" --home-node bg --role ngo --dir other >out 2>&1
check "an id with spaces" 2 $?
openssl req -in org/bg-ngo.csr -noout -text >csr.txt 2>&1
contains "the request names trm://org/bg-ngo" "URI:trm://org/bg-ngo" csr.txt

# The federation's side gets only the public files.
mkdir inbox
cp org/bg-ngo.csr org/bg-ngo.directory-entry.json inbox/
bash "$PKI" ca ca "test federation CA" >out 2>&1; check "make-pki ca" 0 $?
bash "$PKI" ca sign org bg-ngo inbox/bg-ngo.csr >out 2>&1
check "make-pki sign org" 0 $?
bash "$PKI" ca sign org bg-naptip inbox/bg-ngo.csr >out 2>&1
check "a request for another identity" 1 $?
contains "is refused, saying why" "asks for 'URI:trm://org/bg-ngo', not URI:trm://org/bg-naptip" out
echo "not a request" >inbox/junk.csr
bash "$PKI" ca sign org bg-ngo inbox/junk.csr >out 2>&1
check "junk as a request" 1 $?
openssl verify -CAfile ca/ca.crt ca/org-bg-ngo.crt >out 2>&1
check "the certificate verifies with the CA" 0 $?
openssl x509 -in ca/org-bg-ngo.crt -noout -ext subjectAltName >out 2>&1
contains "the certificate carries trm://org/bg-ngo" "URI:trm://org/bg-ngo" out
[ "$(openssl x509 -in ca/org-bg-ngo.crt -noout -pubkey)" = "$(openssl pkey -in org/bg-ngo.tls.key -pubout)" ]
check "the certificate is for the organisation's own TLS key" 0 $?

mkdir keys
for o in authority bg-node; do "$TRMCTL" keygen --org $o --dir keys >/dev/null; done
python3 - <<'PY'
import json
entry = json.load(open("inbox/bg-ngo.directory-entry.json"))
json.dump({"federation": "trm-test", "serial": 1,
           "nodes": [{"id": "bg", "country": "BG", "endpoint": "localhost:0", "tls_identity": "trm://node/bg",
                      "signing_keys": [{"public_key_file": "keys/bg-node.sign.pub"}]}],
           "organisations": [entry]}, open("spec.json", "w"))
PY
"$TRMCTL" directory sign --in spec.json --authority-key keys/authority.sign.key \
  --out directory.signed >out 2>&1
check "the authority signs a directory with the printed entry" 0 $?
"$TRMCTL" directory inspect --in directory.signed --authority-pub keys/authority.sign.pub >out 2>&1
contains "the directory lists it" "bg-ngo" out
# Each of the organisation's private keys, by its base64 body: in none of
# the federation's files.
leaked=""
for f in sign.key enc.key tls.key; do
  body=$(sed -n 2p "org/bg-ngo.$f")
  grep -rqF -- "$body" ca inbox keys directory.signed spec.json && leaked="$leaked $f"
done
[ -z "$leaked" ]; check "no private key of the organisation on the federation's side ($leaked)" 0 $?
grep -q "PRIVATE KEY" inbox/*; check "the files sent hold no private key at all" 1 $?

# The organisation uses its own keys over mutual TLS.
bash "$PKI" ca node bg >out 2>&1; check "make-pki node" 0 $?
cat >node.json <<'JSON'
{"node_id": "bg", "listen": "127.0.0.1:0", "data_dir": "data", "node_signing_key": "keys/bg-node.sign.key",
 "_case_rules": "transport test: the case rules have their own tests",
 "case_rules": {"enforce": false},
 "directory": "directory.signed", "authority_public_key": "keys/authority.sign.pub",
 "tls": {"ca": "ca/ca.crt", "cert": "ca/node-bg.crt", "key": "ca/node-bg.key"}}
JSON
"$BROKER" --config node.json >broker.log 2>&1 &
pid=$!
port=""
for _ in $(seq 1 "$(polls 100)"); do
  port=$(sed -n 's/.*serving on 127.0.0.1:\([0-9]*\).*/\1/p' broker.log)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: broker did not start:"; cat broker.log; exit 1; }
cp ca/org-bg-ngo.crt ca/ca.crt directory.signed keys/authority.sign.pub org/
cat >org/profile.json <<JSON
{"node": "localhost:$port", "ca": "ca.crt", "cert": "org-bg-ngo.crt", "key": "bg-ngo.tls.key",
 "org": "bg-ngo", "home_node": "bg", "sign_key": "bg-ngo.sign.key", "encryption_key": "bg-ngo.enc.key",
 "directory": "directory.signed", "authority_pub": "authority.sign.pub"}
JSON
# The example, filled in; the header's outcome and consent are the payload's.
"$TRMCTL" case payload --type consent-record | sed 's/"(consent ref)"/"C-40"/' >consent.json
"$TRMCTL" --config org/profile.json send --type consent-record --case BG-2026-40 --to bg-ngo \
  --payload consent.json >out 2>&1
check "send over mutual TLS with the organisation's own certificate" 0 $?
contains "the receipt is checked with the directory" "receipt valid" out
"$TRMCTL" --config org/profile.json receive --out-dir org >out 2>&1
check "receive with the organisation's own keys" 0 $?
contains "opened and acknowledged" "received CONSENT_RECORD .* from bg-ngo (case BG-2026-40)" out
id=$(grep -oE '[0-9a-f]{32}' out | head -1)
# Without --config: $TRM_CONFIG, else ~/.config/trm/client.json.
mkdir -p home/.config/trm
sed -E "s#\"([a-z0-9.-]+\.(crt|key|signed|pub))\"#\"$work/org/\1\"#g" org/profile.json \
  >home/.config/trm/client.json
(unset TRM_CONFIG; HOME="$work/home" "$TRMCTL" status "$id") >out 2>&1
check "the profile in ~/.config/trm/client.json is the default" 0 $?
contains "its directory checks the evidence" "acknowledgement: valid, signed by bg-ngo" out
TRM_CONFIG="$work/org/profile.json" HOME="$work/nowhere" "$TRMCTL" status "$id" >out 2>&1
check "TRM_CONFIG names the profile" 0 $?
HOME="$work/home" "$TRMCTL" status "$id" --node "localhost:$port" --insecure-dev >out 2>&1
check "TRM_CONFIG empty: no profile, even with ~/.config/trm/client.json" 2 $?
contains "so the token is missing" "needs --token-file" out
exit $fail
