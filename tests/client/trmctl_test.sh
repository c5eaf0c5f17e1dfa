#!/usr/bin/env bash
# End-to-end test of the trmctl binary: keys, seal, inspect, open, and the
# refusals a user meets, with their exit codes and messages.
set -u
export TRM_CONFIG=""  # no profile of the machine's user (trmctl --config)
TRMCTL=$(readlink -f "$1")
# shellcheck source=../checks.sh
source "$(dirname "$(readlink -f "$0")")/../checks.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

"$TRMCTL" keygen --org bg-ngo --dir . >out 2>&1; check keygen 0 $?
"$TRMCTL" keygen --org ng-naptip --dir . >out 2>&1; check keygen2 0 $?
[ "$(stat -c %a bg-ngo.sign.key)" = 600 ] && [ "$(stat -c %a ng-naptip.enc.key)" = 600 ]
check "private keys are 0600" 0 $?
"$TRMCTL" keygen --org bg-ngo --dir . >out 2>&1; check "keygen refuses to overwrite" 1 $?
contains "overwrite message" KEY_FILE_EXISTS out
"$TRMCTL" keygen --org x --dir new/keys >out 2>&1; check "keygen makes its folder" 0 $?
[ -f new/keys/x.sign.key ]; check "keys in the new folder" 0 $?
"$TRMCTL" --version >out 2>&1; check "--version" 0 $?
contains "version line" "trmctl [0-9]" out
"$TRMCTL" sned >out 2>&1; check "mistyped command" 2 $?
contains "nearest command suggested" "did you mean 'send'" out
"$TRMCTL" audit verfy x >out 2>&1; check "mistyped subcommand" 2 $?
contains "nearest subcommand suggested" "did you mean 'verify'" out

"$TRMCTL" case payload --type referral-request --text 'needs: "shelter" needs: "medical"' \
  --out payload >/dev/null
payload_file consent consent-record --outcome consent-granted --consent C-1
"$TRMCTL" seal --type referral-request --case BG-2026-0001 --from bg-ngo@bg \
  --to ng-naptip@ng --sign-key bg-ngo.sign.key --recipient-pub ng-naptip.enc.pub \
  --consent C-1 --in payload --out r.env >out 2>&1; check seal 0 $?
if grep -q shelter r.env; then echo "FAIL: payload visible in envelope"; fail=1; fi

"$TRMCTL" inspect --in r.env --sender-pub bg-ngo.sign.pub >out 2>&1; check inspect 0 $?
contains "inspect shows case" BG-2026-0001 out
contains "inspect checks signature" "signature:         valid" out
"$TRMCTL" --json inspect --in r.env >out 2>&1; check "inspect --json" 0 $?
python3 -c 'import json,sys; d=json.load(open("out")); assert d["header"]["type"]=="REFERRAL_REQUEST" and d["signature"]=="unchecked"' 
check "inspect --json is JSON" 0 $?
"$TRMCTL" inspect --in r.env --json >out 2>&1; check "--json after the subcommand" 0 $?
python3 -c 'import json; d=json.load(open("out")); assert d["ok"] is True' 2>/dev/null
check "--json after the subcommand: one JSON object" 0 $?
"$TRMCTL" --json inspect --bogus >out 2>&1; check "usage error with --json" 2 $?
python3 -c 'import json; d=json.load(open("out")); assert d["ok"] is False and d["reason"] == "USAGE"' 2>/dev/null
check "usage error with --json: one JSON object" 0 $?
"$TRMCTL" --json open --in r.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
  >out 2>&1; check "open --json to stdout is refused" 2 $?
python3 -c 'import json; d=json.load(open("out")); assert "--out FILE" in d["error"]' 2>/dev/null
check "open --json: the payload never goes into the JSON" 0 $?
"$TRMCTL" seal --type consent-record --case BG-2026-0001 --from bg-ngo@bg \
  --to ng-naptip@ng --sign-key bg-ngo.sign.key --recipient-pub ng-naptip.enc.pub \
  --in consent --out c.env >out 2>&1; check "seal a consent record" 0 $?
"$TRMCTL" inspect --in c.env >out 2>&1; check "inspect a consent record" 0 $?
contains "the header's outcome, from the payload" "outcome:           CONSENT_GRANTED" out
contains "the header's consent, from the payload" "consent_ref:       C-1" out
"$TRMCTL" seal --type consent-record --outcome consent-withdrawn --case BG-2026-0001 \
  --from bg-ngo@bg --to ng-naptip@ng --sign-key bg-ngo.sign.key \
  --recipient-pub ng-naptip.enc.pub --in consent --out w.env >out 2>&1
check "a header that contradicts its payload is not sealed" 1 $?
contains "what disagrees" "header's outcome is CONSENT_WITHDRAWN, the payload says CONSENT_GRANTED" out
"$TRMCTL" seal --type consent-record --case BG-2026-0001 --from bg-ngo@bg --to ng-naptip@ng \
  --sign-key bg-ngo.sign.key --recipient-pub ng-naptip.enc.pub --in payload --out w.env >out 2>&1
check "another type's payload is not sealed" 1 $?
contains "names the payload type" "not a trm.v1.ConsentRecord" out

"$TRMCTL" open --in r.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
  --out opened >out 2>&1; check open 0 $?
cmp -s payload opened; check "payload round trip" 0 $?
[ "$(stat -c %a opened)" = 600 ]; check "opened payload is 0600" 0 $?

# Seen: `open --out /dev/null` as root replaced the system's /dev/null with a
# regular file holding the payload. Devices and FIFOs are written in place;
# symlinks and directories are refused; nothing else is replaced.
open_to() {
  "$TRMCTL" open --in r.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
    --out "$1" >out 2>&1
}
mkfifo fifo
timeout 60 cat fifo >from-fifo & reader=$!
open_to fifo; check "open into a FIFO" 0 $?
wait $reader
[ -p fifo ]; check "the FIFO is still a FIFO" 0 $?
cmp -s payload from-fifo; check "the payload went through the FIFO" 0 $?
if mknod nulldev c 1 3 2>/dev/null; then
  open_to nulldev; check "open into a character device" 0 $?
  [ -c nulldev ]; check "the device node is still a device" 0 $?
else
  echo "skip: mknod needs root (the device case)"
fi
echo keep >target; ln -s target link
open_to link; check "a symlink is refused" 1 $?
contains "symlink reason" OUTPUT_NOT_REGULAR_FILE out
[ "$(cat target)" = keep ]; check "nothing written through the symlink" 0 $?
mkdir adir; open_to adir; check "a directory is refused" 1 $?
contains "directory reason" "is a directory" out

# Tampered ciphertext: refused, exit 1, named reason, no output file.
python3 -c '
d = bytearray(open("r.env","rb").read()); d[len(d)//2 + 20] ^= 0x01
open("t.env","wb").write(d)'
"$TRMCTL" open --in t.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
  --out t.out >out 2>&1; check "tampered refused" 1 $?
contains "tampered reason" SIGNATURE_INVALID out
[ ! -e t.out ]; check "no output for a refused open" 0 $?
"$TRMCTL" --json open --in t.env --sender-pub bg-ngo.sign.pub \
  --recipient-key ng-naptip.enc.key --out t.out >out 2>&1; check "tampered --json" 1 $?
python3 -c 'import json; d=json.load(open("out")); assert d["ok"] is False and d["reason"]=="SIGNATURE_INVALID"'
check "tampered --json reason" 0 $?
"$TRMCTL" inspect --in t.env --sender-pub bg-ngo.sign.pub >out 2>&1; check "inspect tampered" 1 $?

# A header that says what its payload does not (sealed by the independent
# implementation, which takes nothing from the payload): open refuses it and
# writes nothing.
sealed_mismatch mm.env bg-ngo.sign.key ng-naptip.enc.pub bg-ngo@bg ng-naptip@ng BG-2026-0001
check "a disagreeing envelope sealed" 0 $?
"$TRMCTL" open --in mm.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
  --out mm.out >out 2>&1; check "open refuses a header that disagrees" 1 $?
contains "names both" "HEADER_PAYLOAD_MISMATCH: .*outcome is none, the payload says CONSENT_GRANTED" out
[ ! -e mm.out ]; check "nothing written for it" 0 $?

# Wrong keys.
"$TRMCTL" open --in r.env --sender-pub ng-naptip.sign.pub --recipient-key ng-naptip.enc.key \
  --out x >out 2>&1; check "wrong sender key" 1 $?
contains "wrong sender reason" SENDER_KEY_MISMATCH out
"$TRMCTL" open --in r.env --sender-pub bg-ngo.sign.pub --recipient-key bg-ngo.enc.key \
  --out x >out 2>&1; check "wrong recipient key" 1 $?
contains "wrong recipient reason" RECIPIENT_KEY_MISMATCH out
"$TRMCTL" open --in r.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.sign.key \
  --out x >out 2>&1; check "signing key given as encryption key" 1 $?
contains "wrong kind reason" WRONG_KEY_TYPE out

# Truncated file.
head -c 100 r.env >short.env
"$TRMCTL" open --in short.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
  --out x >out 2>&1; check truncated 1 $?
contains "truncated reason" ENVELOPE_MALFORMED out

# Usage errors exit 2 and say what to do.
"$TRMCTL" seal --type nonsense --case C --from a@b --to c@d --sign-key bg-ngo.sign.key \
  --recipient-pub ng-naptip.enc.pub --out x >out 2>&1; check "bad type" 2 $?
contains "bad type lists types" "referral-request" out
"$TRMCTL" seal --type referral-request --case C --from nobody --to c@d \
  --sign-key bg-ngo.sign.key --recipient-pub ng-naptip.enc.pub --out x >out 2>&1
check "bad address" 2 $?
contains "bad address help" "ORGANISATION@NODE" out
"$TRMCTL" open >out 2>&1; check "missing flags" 2 $?
"$TRMCTL" --help >out 2>&1; check help 0 $?

# A private key others can read is refused.
chmod 644 bg-ngo.sign.key
"$TRMCTL" seal --type consent-record --case C --from bg-ngo@bg --to ng-naptip@ng \
  --sign-key bg-ngo.sign.key --recipient-pub ng-naptip.enc.pub --in consent --out y >out 2>&1
check "world-readable key refused" 1 $?
contains "chmod advice" "chmod 600" out

# Payloads in JSON: an example of the type, filled in, read back, sealed.
chmod 600 bg-ngo.sign.key
"$TRMCTL" case payload --type pre-departure-counselling >example.json 2>&1
check "case payload --type prints an example" 0 $?
contains "the example's time is RFC 3339" '"held": "2026-12-01T09:30:00Z"' example.json
sed 's/(topics)/travel/' example.json >pdc.json
"$TRMCTL" case payload --type pre-departure-counselling --from-json pdc.json --out pdc.bin \
  >out 2>&1; check "case payload --from-json" 0 $?
"$TRMCTL" case payload --type pre-departure-counselling --show pdc.bin >out 2>&1
check "case payload --show" 0 $?
contains "a serialised payload shown as JSON" '"topics":\["travel"' out
"$TRMCTL" case payload --type referral-ack --show pdc.bin >out 2>&1
check "case payload --show of another type" 1 $?
contains "says it is not that type" "PAYLOAD_INVALID" out
"$TRMCTL" seal --type pre-departure-counselling --case BG-2026-0001 --from bg-ngo@bg \
  --to ng-naptip@ng --sign-key bg-ngo.sign.key --recipient-pub ng-naptip.enc.pub \
  --payload pdc.json --out p.env >out 2>&1; check "seal --payload JSON" 0 $?
"$TRMCTL" open --in p.env --sender-pub bg-ngo.sign.pub --recipient-key ng-naptip.enc.key \
  --out p.opened >out 2>&1; check "open the JSON-written payload" 0 $?
cmp -s pdc.bin p.opened; check "--payload seals what case payload --from-json writes" 0 $?
echo '{"held": 1796117400000}' >bad.json
"$TRMCTL" seal --type pre-departure-counselling --case BG-2026-0001 --from bg-ngo@bg \
  --to ng-naptip@ng --sign-key bg-ngo.sign.key --recipient-pub ng-naptip.enc.pub \
  --payload bad.json --out bad.env >out 2>&1; check "an epoch-ms time is refused" 1 $?
contains "the refusal names the field" "JSON_INVALID.*held" out
[ ! -e bad.env ]; check "nothing sealed from bad JSON" 0 $?
"$TRMCTL" reasons JSON_INVALID >out 2>&1; check "trmctl reasons TOKEN" 0 $?
contains "what to do" "example" out

exit $fail
