# The start of every federation test script: source it with the trm-broker
# and trmctl paths, as `source "$(dirname "$0")/federation_test_lib.sh" "$1"
# "$2"`. It sets BROKER, TRMCTL, HERE (this directory) and PKI, works in a
# fresh directory that is removed at exit (with every node in `pids`
# killed), loads tests/checks.sh, and sources federation_lib.sh (CA,
# certificates, keys, signed directory; node_config and start).
BROKER=$(readlink -f "$1")
TRMCTL=$(readlink -f "$2")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKI=$HERE/../../deploy/pki/make-pki.sh
work=$(mktemp -d)
declare -A pids
# A failed check fails the script even if it forgets `exit $fail`.
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
  if [ "${fail:-0}" != 0 ]; then exit 1; fi
  exit "$rc"
}
trap cleanup EXIT
cd "$work" || exit 1
source "$HERE/../checks.sh"
source "$HERE/federation_lib.sh"
