#!/usr/bin/env bash
# Mutual TLS end to end: a node with certificates from deploy/pki/make-pki.sh
# and a signed directory; organisations call with their certificates; every
# certificate refusal names the certificate and the reason.
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

bash "$PKI" pki ca "trm-test federation CA" >/dev/null
bash "$PKI" pki node bg >/dev/null
for o in bg-ngo bg-naptip; do bash "$PKI" pki org $o >/dev/null; done
bash "$PKI" rogue ca "rogue CA" >/dev/null
bash "$PKI" rogue org bg-ngo >/dev/null
[ "$(stat -c %a pki/org-bg-ngo.key)" = 600 ]; check "TLS keys are 0600" 0 $?
bash "$PKI" pki org bg-ngo >out 2>&1; check "make-pki never overwrites a key" 1 $?
# An expired certificate from the right CA, for bg-ngo.
python3 - <<'PY'
import datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
ca_key = serialization.load_pem_private_key(open("pki/ca.key", "rb").read(), None)
ca = x509.load_pem_x509_certificate(open("pki/ca.crt", "rb").read())
key = serialization.load_pem_private_key(open("pki/org-bg-ngo.key", "rb").read(), None)
now = datetime.datetime.utcnow()
cert = (x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "org bg-ngo (expired)")]))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(77)
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier("trm://org/bg-ngo")]), False)
        .sign(ca_key, hashes.SHA256()))
open("expired.crt", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
PY

mkdir keys inbox
for o in authority bg-node bg-ngo bg-naptip; do "$TRMCTL" keygen --org $o --dir keys >/dev/null; done
cat >spec.json <<'JSON'
{"federation": "trm-test", "serial": 1,
 "nodes": [{"id": "bg", "country": "BG", "endpoint": "localhost:0", "tls_identity": "trm://node/bg",
            "signing_keys": [{"public_key_file": "keys/bg-node.sign.pub"}]}],
 "organisations": [
   {"id": "bg-ngo", "home_node": "bg", "roles": ["NGO"], "tls_identity": "trm://org/bg-ngo",
    "signing_keys": [{"public_key_file": "keys/bg-ngo.sign.pub"}],
    "encryption_keys": [{"public_key_file": "keys/bg-ngo.enc.pub"}]},
   {"id": "bg-naptip", "home_node": "bg", "roles": ["NATIONAL_COORDINATOR"], "tls_identity": "trm://org/bg-naptip",
    "signing_keys": [{"public_key_file": "keys/bg-naptip.sign.pub"}],
    "encryption_keys": [{"public_key_file": "keys/bg-naptip.enc.pub"}]}]}
JSON
"$TRMCTL" directory sign --in spec.json --authority-key keys/authority.sign.key --out directory.signed >/dev/null
cat >node.json <<'JSON'
{"node_id": "bg", "listen": "127.0.0.1:0", "data_dir": "data", "node_signing_key": "keys/bg-node.sign.key",
 "_case_rules": "transport test: the case rules have their own tests (cases_test.sh, return_test.sh)",
 "case_rules": {"enforce": false},
 "directory": "directory.signed", "authority_public_key": "keys/authority.sign.pub",
 "metrics_listen": "127.0.0.1:0",
 "tls": {"ca": "pki/ca.crt", "cert": "pki/node-bg.crt", "key": "pki/node-bg.key"}}
JSON
"$BROKER" --config node.json --insecure-dev >out 2>&1; check "TLS and --insecure-dev exclude each other" 1 $?
"$BROKER" --config node.json --check-config >out 2>&1; check "--check-config" 0 $?
contains "config summary" "configuration OK: node bg" out
sed 's/"node_id": "bg"/"node_id": "xx"/' node.json >other.json
"$BROKER" --config other.json --check-config >out 2>&1; check "--check-config: node not in directory" 1 $?
contains "names the node" "NODE_NOT_IN_DIRECTORY: node 'xx'" out
sed 's|pki/node-bg.crt|pki/missing.crt|' node.json >nocert.json
"$BROKER" --config nocert.json --check-config >out 2>&1; check "--check-config: certificate missing" 1 $?
contains "names the file" "pki/missing.crt is not a readable PEM" out
"$BROKER" --config node.json >broker.log 2>&1 &
pid=$!
for _ in $(seq 1 "$(polls 100)"); do
  port=$(sed -n 's/.*serving on 127.0.0.1:\([0-9]*\).*/\1/p' broker.log)
  [ -n "$port" ] && break; sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: broker did not start"; cat broker.log; exit 1; }
contains "serves mutual TLS" "mutual TLS" broker.log
"$TRMCTL" node health --node "localhost:$port" --ca pki/ca.crt --cert pki/org-bg-ngo.crt \
  --key pki/org-bg-ngo.key >out 2>&1; check "grpc.health.v1" 0 $?
contains "serving" "^SERVING" out
"$TRMCTL" node services --node "localhost:$port" --ca pki/ca.crt --cert pki/org-bg-ngo.crt \
  --key pki/org-bg-ngo.key >out 2>&1; check "server reflection" 0 $?
for s in trm.v1.Mailbox trm.v1.Cases trm.v1.NodeAdmin trm.v1.Audit grpc.health.v1.Health; do
  contains "reflection lists $s" "^$s\$" out
done

"$TRMCTL" case payload --type referral-request --text 'reason: "referral"' --out payload >/dev/null
as() {  # as CERT KEY SENDER [CA]: send SENDER's message with these TLS credentials
  "$TRMCTL" send --node "localhost:$port" --ca "${4:-pki/ca.crt}" --cert "$1" --key "$2" \
    --type referral-request --case BG-1 --from "$3@bg" --to bg-naptip@bg \
    --sign-key "keys/$3.sign.key" --recipient-pub keys/bg-naptip.enc.pub --in payload >out 2>&1
}
as pki/org-bg-ngo.crt pki/org-bg-ngo.key bg-ngo; check "send over mutual TLS" 0 $?
id=$(sed -nE 's/^sent REFERRAL_REQUEST ([0-9a-f]{32}).*/\1/p' out)
"$TRMCTL" receive --node "localhost:$port" --ca pki/ca.crt --cert pki/org-bg-naptip.crt \
  --key pki/org-bg-naptip.key --recipient-key keys/bg-naptip.enc.key --sign-key keys/bg-naptip.sign.key --keys-dir keys \
  --out-dir inbox >out 2>&1; check "receive over mutual TLS" 0 $?
cmp -s payload "inbox/$id.payload"; check "payload arrives" 0 $?

as pki/org-bg-naptip.crt pki/org-bg-naptip.key bg-ngo; check "one organisation as another" 1 $?
contains "impersonation reason" SENDER_NOT_CALLER out
# Prometheus metrics on their own port.
mport=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' broker.log)
python3 -c 'import sys, urllib.request as u; sys.stdout.write(u.urlopen(sys.argv[1]).read().decode())' \
  "http://127.0.0.1:$mport/metrics" >metrics 2>&1; check "GET /metrics" 0 $?
contains "accepted submissions" 'trm_submits_total{result="OK"} 1$' metrics
contains "refusals by reason" 'trm_submits_total{result="SENDER_NOT_CALLER"} 1$' metrics
contains "latency histogram" 'trm_submit_seconds_count 2$' metrics
contains "queue depth" 'trm_queue_messages{org="bg-naptip"} [0-9]' metrics
contains "queue age" 'trm_queue_oldest_age_seconds{org="bg-naptip"}' metrics
contains "fsyncs" 'trm_store_fsyncs_total [1-9]' metrics
contains "rocksdb stats" 'trm_rocksdb{property="rocksdb.total-sst-files-size"}' metrics
contains "audit log size" 'trm_audit_log_entries [1-9]' metrics
contains "tree head age" 'trm_tree_head_age_seconds' metrics
contains "certificate expiry" 'trm_tls_certificate_expiry_seconds [1-9]' metrics
contains "overdue deadlines" 'trm_deadlines_overdue 0$' metrics
as rogue/org-bg-ngo.crt rogue/org-bg-ngo.key bg-ngo; check "certificate from another CA" 1 $?
contains "other CA reason" CERT_UNTRUSTED out
contains "other CA names the certificate" "CN=org bg-ngo" out
contains "other CA names the issuer" "rogue CA" out
as expired.crt pki/org-bg-ngo.key bg-ngo; check "expired certificate" 1 $?
contains "expired reason" CERT_EXPIRED out
contains "expired names the certificate" "org bg-ngo (expired)" out
as pki/node-bg.crt pki/node-bg.key bg-ngo; check "a node's certificate on the Mailbox" 1 $?
contains "node certificate reason" WRONG_ROLE out
"$TRMCTL" node status --node "localhost:$port" --ca pki/ca.crt --cert pki/node-bg.crt \
  --key pki/node-bg.key >out 2>&1; check "a node's certificate on NodeAdmin" 1 $?
contains "names the services a node may call" "a node calls only the Federation and Audit services" out
if grep -q "the Mailbox serves" out; then echo "FAIL: names the wrong service"; fail=1; fi
as pki/org-bg-ngo.crt pki/org-bg-ngo.key bg-ngo rogue/ca.crt; check "client refuses a server from another CA" 1 $?
"$TRMCTL" send --node "localhost:$port" --type referral-request --case BG-1 --from bg-ngo@bg \
  --to bg-naptip@bg --sign-key keys/bg-ngo.sign.key --recipient-pub keys/bg-naptip.enc.pub \
  --in payload >out 2>&1; check "no credentials is a usage error" 2 $?

kill -TERM "$pid"; wait "$pid"; check "SIGTERM" 0 $?; pid=""
exit $fail
