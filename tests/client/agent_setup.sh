# The start of a trm-agent shell test. Source it with the test's arguments
# (BROKER TRMCTL AGENT): sets those three and HERE (tests/client), makes a
# working folder and changes into it, removes it at exit after killing every
# process in `pids`, and sources tests/checks.sh and agent_lib.sh.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BROKER=$(readlink -f "$1")
TRMCTL=$(readlink -f "$2")
AGENT=$(readlink -f "$3")
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
source "$HERE/../checks.sh"
source "$HERE/agent_lib.sh"
