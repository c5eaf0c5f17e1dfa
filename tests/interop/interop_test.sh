#!/usr/bin/env bash
# Interoperability of trm-broker with an independent implementation of
# docs/protocol.md (trm_envelope.py): the worked example byte for byte, and
# envelopes sealed by each side opened by the other, both AEADs.
set -u
export TRM_CONFIG=""  # no profile of the machine's user (trmctl --config)
TRMCTL=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
doc="$here/../../docs/protocol.md"
py="/usr/bin/python3 $here/trm_envelope.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

want=$(sed -n '/^envelope:/,/^```/p' "$doc" | grep -E '^[0-9a-f]+$' | tr -d '\n')
got=$($py example)
[ -n "$want" ] && [ "$got" = "$want" ] && ok "worked example matches docs/protocol.md" ||
  bad "worked example: python gives $got, document shows $want"
want=$(sed -n '/^aes128gcm_envelope:/,/^```/p' "$doc" | grep -E '^[0-9a-f]+$' | tr -d '\n')
got=$($py example --aead 1)
[ -n "$want" ] && [ "$got" = "$want" ] && ok "AES-128-GCM worked example matches docs/protocol.md" ||
  bad "AES-128-GCM worked example: python gives $got, document shows $want"

"$TRMCTL" keygen --org bg-ngo --dir . >/dev/null && "$TRMCTL" keygen --org ng-naptip --dir . >/dev/null ||
  bad keygen
"$TRMCTL" case payload --type risk-feedback --out payload \
  --text 'additional_risks: "low" local_safety_measures: "case worker 2"' >/dev/null

for aead in chacha20poly1305 aes128gcm; do
  "$TRMCTL" seal --type risk-feedback --case NG-7 --from bg-ngo@bg --to ng-naptip@ng \
    --sign-key bg-ngo.sign.key --recipient-pub ng-naptip.enc.pub --aead $aead \
    --in payload --out c.env >/dev/null || bad "trmctl seal $aead"
  $py open --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key --in c.env >out &&
    cmp -s out payload && ok "python opens trmctl's $aead envelope" ||
    bad "python could not open trmctl's $aead envelope"
done

for id in 3 1; do
  $py seal --sign-key bg-ngo.sign.key --recipient-pub ng-naptip.enc.pub --from bg-ngo@bg \
    --to ng-naptip@ng --type 7 --case NG-7 --consent C-2 --aead $id --in payload --out p.env ||
    bad "python seal aead $id"
  "$TRMCTL" open --in p.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
    --out out >/dev/null && cmp -s out payload && ok "trmctl opens python's aead $id envelope" ||
    bad "trmctl could not open python's aead $id envelope"
done

# Both refuse the same tampering with the same reason.
python3 -c '
d = bytearray(open("p.env","rb").read()); d[-90] ^= 0x40  # in the ciphertext
open("t.env","wb").write(d)'
$py open --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key --in t.env 2>py.err >/dev/null
"$TRMCTL" open --in t.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
  --out x 2>c.err >/dev/null
pr=$(cut -d: -f1 py.err); cr=$(sed 's/^trmctl: error: //' c.err | cut -d: -f1)
[ -n "$pr" ] && [ "$pr" = "$cr" ] && ok "same refusal on both sides ($pr)" ||
  bad "refusals differ: python '$pr', trmctl '$cr'"
# Section 4's decoding rules: a header two readers could read differently is
# refused by both, with the same reason, before any signature check.
python3 - "$here" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import trm_envelope as t
env = t.parse_fields(open("p.env", "rb").read(), t.ENVELOPE_WIRE, "X", "X")
header = env[1]
fields = t.parse_fields(header, t.HEADER_WIRE, "X", "X")
rest = header[2:]  # after schema_version (08 01)
variants = {
    "dup": header + t.field_bytes(7, b"it-ngo"),           # recipient_org twice
    "wide": t.field_varint(1, (1 << 32) + 1) + rest,       # read as 1 by uint32
    "long": bytes([0x08, 0x81, 0x00]) + rest,              # 1 in two bytes
    "default": header + t.field_varint(13, 0),             # minor = false written
    "order": rest + t.field_varint(1, 1),                  # schema_version last
}
for name, h in variants.items():
    wire = (t.field_bytes(1, h) + t.field_bytes(2, env[2]) + t.field_bytes(3, env[3])
            + t.field_bytes(4, env[4]) + t.field_bytes(5, env[5]))
    open(f"nc-{name}.env", "wb").write(wire)
PY
for v in dup wide long default order; do
  $py open --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key --in nc-$v.env 2>py.err >/dev/null
  "$TRMCTL" open --in nc-$v.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
    --out x 2>c.err >/dev/null
  pr=$(cut -d: -f1 py.err); cr=$(sed 's/^trmctl: error: //' c.err | cut -d: -f1)
  [ "$pr" = HEADER_NOT_CANONICAL ] && [ "$pr" = "$cr" ] &&
    ok "non-canonical header ($v) refused by both" ||
    bad "non-canonical header ($v): python '$pr', trmctl '$cr'"
done

# Section 7's Ed25519 rule: the edge-case vectors are the ones ed25519_rule.py
# (written from the section) makes, and it agrees with every verdict of them
# and of Wycheproof; ed25519_rule_test checks trm-broker's against the same.
rule="/usr/bin/python3 $here/ed25519_rule.py"
edge="$here/../testdata/ed25519_edge_cases.json"
$rule vectors >edge.json && cmp -s edge.json "$edge" &&
  ok "tests/testdata/ed25519_edge_cases.json is what ed25519_rule.py makes" ||
  bad "ed25519_rule.py vectors differs from tests/testdata/ed25519_edge_cases.json"
$rule check "$edge" && ok "python's rule agrees with every edge-case verdict" ||
  bad "python's rule disagrees with edge-case verdicts"
$rule wycheproof "$here/../testdata/wycheproof/ed25519_test.json" &&
  ok "python's rule agrees with every Wycheproof Ed25519 verdict" ||
  bad "python's rule disagrees with Wycheproof"
# An envelope signed with R = identity and S = k * a satisfies the
# cofactorless equation (a lenient verifier takes it); both sides refuse it.
python3 - "$here" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import trm_envelope as t, ed25519_rule as r
from cryptography.hazmat.primitives import serialization as s
seed = t.load("bg-ngo.sign.key", True).private_bytes(
    s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())
a, _, pk = r.keypair(seed)
env = t.parse_fields(open("p.env", "rb").read(), t.ENVELOPE_WIRE, "X", "X")
sig = r.sign_as(a, pk, r.le(1), 0, t.signature_input(env[1], env[2], env[3]))
assert r.loose_verify(pk, t.signature_input(env[1], env[2], env[3]), sig)
open("r0.env", "wb").write(t.field_bytes(1, env[1]) + t.field_bytes(2, env[2])
    + t.field_bytes(3, env[3]) + t.field_bytes(4, env[4]) + t.field_bytes(5, sig))
PY
$py open --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key --in r0.env 2>py.err >/dev/null
"$TRMCTL" open --in r0.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
  --out x 2>c.err >/dev/null
pr=$(cut -d: -f1 py.err); cr=$(sed 's/^trmctl: error: //' c.err | cut -d: -f1)
[ "$pr" = SIGNATURE_INVALID ] && [ "$pr" = "$cr" ] &&
  ok "a signature with R of small order refused by both ($pr)" ||
  bad "R of small order: python '$pr', trmctl '$cr'"
# Section 15.1: acknowledgements signed in a batch. trm_acknowledgement.py,
# written from the section, prints the worked example exactly as the
# document shows it (worked_example_test checks trm-broker's side against
# the same block), verifies each message's evidence, and refuses it changed.
ack="/usr/bin/python3 $here/trm_acknowledgement.py"
want=$(sed -n '/^acknowledger_public_key:/,/^```/p' "$doc" | sed '$d')
got=$($ack example)
[ -n "$want" ] && [ "$got" = "$want" ] &&
  ok "acknowledgement batch example matches docs/protocol.md section 15.1.1" ||
  bad "acknowledgement batch example differs from docs/protocol.md section 15.1.1"
if python3 - "$here" "$doc" <<'PY'

import sys
sys.path.insert(0, sys.argv[1])
import trm_acknowledgement as a
lines = open(sys.argv[2]).read().split("\n")
i = lines.index("acknowledgement_3:")
hexes = []
for l in lines[i + 1:]:
    if l.startswith("```"):
        break
    hexes.append(l)
evidence = bytes.fromhex("".join(hexes))
pub = bytes.fromhex(lines[lines.index("acknowledger_public_key:") + 1])
a.verify(evidence, pub)
for what in ("leaf_index", "path", "root", "alone"):
    try:
        a.verify(a.tamper(evidence, what), pub)
        sys.exit(f"changed {what} verified")
    except a.Refused as e:
        assert e.reason.startswith("ACKNOWLEDGEMENT_"), e
PY
then
  ok "python verifies the document's acknowledgement_3 and refuses it changed four ways"
else
  bad "python: the document's acknowledgement_3 does not verify, or verifies when changed"
fi
exit $fail
