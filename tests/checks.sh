# Assertions shared by the shell tests. Source it; a failed check sets
# fail=1 (the test exits with $fail at the end) and shows what was seen.
fail=0
# No client profile of the machine's user (~/.config/trm/client.json) ever
# reaches a test's trmctl: a test names its own with --config.
export TRM_CONFIG=""
# check NAME EXPECTED_RC ACTUAL_RC
check() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1: exit $3, expected $2"; cat out 2>/dev/null; fail=1
  else
    echo "ok: $1"
  fi
}
# contains NAME NEEDLE FILE
contains() {
  if grep -q -- "$2" "$3"; then
    echo "ok: $1"
  else
    echo "FAIL: $1: '$2' not in:"; cat "$3"; fail=1
  fi
}
# polls N: the loop count for "poll up to N times, 0.05-0.1 s apart, until
# the event happens". Loops stop at the event, so a larger bound costs only
# a failing run; it is scaled by TRM_WAIT_SCALE (default 3; scripts/test.sh
# sets 10 for the sanitizer build, where every step is slower).
polls() { echo $(( $1 * ${TRM_WAIT_SCALE:-3} )); }
# payload_for TYPE [send flags...] [--pad N]: prints the least JSON payload
# of TYPE that agrees with the flags' --outcome, --consent and --departure,
# for `trmctl send --payload` (tests/payload_for.py).
TRM_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
payload_for() { python3 "$TRM_TESTS_DIR/payload_for.py" "$@"; }
# payload_file FILE TYPE [send flags...]: writes FILE, that payload
# serialised, for `trmctl send --in FILE` ($TRMCTL is the test's trmctl).
payload_file() {
  local file=$1; shift
  payload_for "$@" >"$file.json" &&
    "$TRMCTL" case payload --type "$1" --from-json "$file.json" --out "$file" >/dev/null
}
# sealed_mismatch OUT SIGN_KEY RECIPIENT_PUB FROM@NODE TO@NODE CASE: writes
# OUT, a CONSENT_RECORD (consent C-1, granted) sealed by the independent
# implementation (tests/interop), which takes nothing from the payload: its
# header leaves out the outcome the payload states. A recipient must refuse
# it as HEADER_PAYLOAD_MISMATCH.
sealed_mismatch() {
  payload_file "$1.consent" consent-record --consent C-1 --outcome consent-granted &&
    python3 "$TRM_TESTS_DIR/interop/trm_envelope.py" seal --sign-key "$2" --recipient-pub "$3" \
      --from "$4" --to "$5" --type 1 --case "$6" --consent C-1 --in "$1.consent" --out "$1"
}
