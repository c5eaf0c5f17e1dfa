#!/usr/bin/env bash
# deploy/systemd's units, as systemd reads them: `systemd-analyze verify`
# over each with its ExecStart pointed at the built binary; any warning
# (an unknown key, a bad value) fails. Skipped (77) without systemd-analyze.
#   systemd_units_test.sh TRM_BROKER TRM_AGENT
set -u
BROKER=$(readlink -f "$1")
AGENT=$(readlink -f "$2")
UNITS=$(cd "$(dirname "$0")/../../deploy/systemd" && pwd)
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../checks.sh"
for unit in trm-broker trm-agent; do
  sed -e "s|/usr/local/bin/trm-broker|$BROKER|g" -e "s|/usr/local/bin/trm-agent|$AGENT|g" \
    "$UNITS/$unit.service" >"$work/$unit.service"
  systemd-analyze verify "$work/$unit.service" >"$work/out" 2>&1
  rc=$?
  [ "$rc" = 0 ] && [ ! -s "$work/out" ]
  check "$unit.service verifies without a warning" 0 $?
  cat "$work/out"
done
# The check can fail: a misspelt key is reported.
sed 's/^Restart=on-failure/Restartt=on-failure/' "$work/trm-agent.service" >"$work/bad.service"
systemd-analyze verify "$work/bad.service" >"$work/out" 2>&1
contains "a misspelt key is reported" "Unknown key 'Restartt'" "$work/out"
exit "$fail"
