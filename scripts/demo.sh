#!/usr/bin/env bash
# The trm-broker demo: installs what is needed, builds, and shows what the
# product does so far (protocol v1 envelopes):
#   1. a Bulgarian NGO and Nigeria's NAPTIP get signing and encryption keys;
#   2. the NGO seals and signs a referral to NAPTIP;
#   3. a node inspects the header and verifies the signature, without being
#      able to read the payload;
#   4. NAPTIP verifies and opens it;
#   5. a tampered copy, opening with the wrong recipient key and checking
#      against the wrong sender key are refused, each with a clear reason;
#   6. Bulgaria's national node runs with a federation CA, a signed
#      directory and mutual TLS: the NGO sends a case update to the
#      national coordinator through it, gets a signed receipt, follows the
#      status, and the coordinator receives and acknowledges it.
# Demo files go to ./demo-run/ (replaced on each run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

./scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target trmctl trm-broker
trmctl="$root/build/default/client/trmctl"
broker="$root/build/default/server/trm-broker"

run="$root/demo-run"
rm -rf "$run"
mkdir -p "$run/keys"
cd "$run"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

say "1. Keys for two organisations (private keys are written 0600)"
show "$trmctl" keygen --org bg-ngo-animus --dir keys
show "$trmctl" keygen --org ng-naptip --dir keys

say "2. The Bulgarian NGO seals and signs a referral for NAPTIP in Nigeria"
cat >referral.txt <<'TXT'
Referral request (sealed payload; only NAPTIP can read this)
Needs: safe accommodation on arrival, medical follow-up, vocational training.
Services requested: reception at Lagos airport, reintegration assistance.
Reason for referral: the person asked to return; risk assessment to follow.
TXT
show "$trmctl" seal --type referral-request --case BG-2026-000123 \
  --from bg-ngo-animus@bg --to ng-naptip@ng --consent CONSENT-7 \
  --sign-key keys/bg-ngo-animus.sign.key --recipient-pub keys/ng-naptip.enc.pub \
  --in referral.txt --out referral.env
if grep -q "accommodation" referral.env; then
  echo "demo: the payload is readable in the envelope" >&2
  exit 1
fi
echo "(the payload text does not appear anywhere in referral.env)"

say "3. A node reads the header and checks the sender's signature; it cannot read the payload"
show "$trmctl" inspect --in referral.env --sender-pub keys/bg-ngo-animus.sign.pub

say "4. NAPTIP verifies the signature and opens the referral"
show "$trmctl" open --in referral.env --sender-pub keys/bg-ngo-animus.sign.pub \
  --recipient-key keys/ng-naptip.enc.key --out referral.opened.txt
cat referral.opened.txt
cmp -s referral.txt referral.opened.txt

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

say "6. Bulgaria's national node, with a federation CA, a signed directory and mutual TLS"
show "$trmctl" keygen --org bg-node --dir keys
show "$trmctl" keygen --org bg-nrm-coordinator --dir keys
show "$trmctl" keygen --org authority --dir keys
echo "-- the federation CA and TLS certificates (openssl command line):"
show bash "$root/deploy/pki/make-pki.sh" pki ca "TRM demo federation CA"
show bash "$root/deploy/pki/make-pki.sh" pki node bg
for o in bg-ngo-animus bg-nrm-coordinator; do show bash "$root/deploy/pki/make-pki.sh" pki org $o; done
echo "-- the federation authority signs the directory of nodes, organisations and keys:"
cat >directory.json <<'JSON'
{"federation": "trm-demo", "serial": 1,
 "nodes": [{"id": "bg", "country": "BG", "endpoint": "localhost:7400", "tls_identity": "trm://node/bg",
            "signing_keys": [{"public_key_file": "keys/bg-node.sign.pub"}]}],
 "organisations": [
   {"id": "bg-ngo-animus", "home_node": "bg", "roles": ["NGO"], "tls_identity": "trm://org/bg-ngo-animus",
    "signing_keys": [{"public_key_file": "keys/bg-ngo-animus.sign.pub"}],
    "encryption_keys": [{"public_key_file": "keys/bg-ngo-animus.enc.pub"}]},
   {"id": "bg-nrm-coordinator", "home_node": "bg", "roles": ["NATIONAL_COORDINATOR"],
    "tls_identity": "trm://org/bg-nrm-coordinator",
    "signing_keys": [{"public_key_file": "keys/bg-nrm-coordinator.sign.pub"}],
    "encryption_keys": [{"public_key_file": "keys/bg-nrm-coordinator.enc.pub"}]}]}
JSON
show "$trmctl" directory sign --in directory.json --authority-key keys/authority.sign.key \
  --out directory.signed
cat >node.json <<JSON
{
  "node_id": "bg",
  "listen": "127.0.0.1:0",
  "data_dir": "node-data",
  "node_signing_key": "keys/bg-node.sign.key",
  "directory": "directory.signed",
  "authority_public_key": "keys/authority.sign.pub",
  "tls": {"ca": "pki/ca.crt", "cert": "pki/node-bg.crt", "key": "pki/node-bg.key"}
}
JSON
"$broker" --config node.json >node.log 2>&1 &
node_pid=$!
trap 'kill -TERM $node_pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do grep -q "serving on" node.log && break; sleep 0.1; done
cat node.log
port=$(sed -n 's/.*serving on 127.0.0.1:\([0-9]*\).*/\1/p' node.log)
[ -n "$port" ] || { echo "demo: the node did not start" >&2; exit 1; }
tls() { echo --node "localhost:$port" --ca pki/ca.crt --cert "pki/org-$1.crt" --key "pki/org-$1.key"; }
printf 'Case update: reflection period started on 2026-11-20; risk assessment scheduled.\n' >update.txt
echo "-- the NGO sends over mutual TLS; the node verifies the signature, stores durably and signs a receipt:"
out=$("$trmctl" --json send $(tls bg-ngo-animus) \
  --type reflection-period-notice --case BG-2026-000123 --from bg-ngo-animus@bg \
  --to bg-nrm-coordinator@bg --sign-key keys/bg-ngo-animus.sign.key \
  --recipient-pub keys/bg-nrm-coordinator.enc.pub --in update.txt \
  --node-pub keys/bg-node.sign.pub)
echo "$out"
id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["message_id"])' "$out")
show "$trmctl" status $(tls bg-ngo-animus) "$id"
echo "-- the coordinator receives, verifies, opens and acknowledges:"
mkdir -p inbox
show "$trmctl" receive $(tls bg-nrm-coordinator) \
  --recipient-key keys/bg-nrm-coordinator.enc.key --sign-key keys/bg-nrm-coordinator.sign.key \
  --keys-dir keys --out-dir inbox
cat "inbox/$id.payload"
echo "-- the sender sees the coordinator's signed acknowledgement, checked against the signed directory:"
show "$trmctl" status $(tls bg-ngo-animus) "$id" --directory directory.signed --authority-pub keys/authority.sign.pub
echo "-- the NGO, with its own certificate, trying to submit as the coordinator is refused:"
if "$trmctl" send $(tls bg-ngo-animus) \
  --type case-closure --case BG-2026-000123 --from bg-nrm-coordinator@bg \
  --to bg-ngo-animus@bg --sign-key keys/bg-nrm-coordinator.sign.key \
  --recipient-pub keys/bg-ngo-animus.enc.pub --in update.txt; then
  echo "demo: impersonation was accepted" >&2
  exit 1
fi
kill -TERM "$node_pid"; wait "$node_pid"; trap - EXIT
tail -n 2 node.log

say "Done. Files are in $run"
echo "Next: ./scripts/test.sh runs the whole test suite; docs/protocol.md describes the format."
