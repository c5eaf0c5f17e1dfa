#!/usr/bin/env bash
# The console (docs/console.md) in a real browser: Debian's chromium,
# headless, driven by python3-selenium (tests/client/console_check.py)
# against two organisations' agents on a real node. Sign-in and its
# refusal, the inbox, a payload with markup shown as text, the evidence,
# a reply composed from the type's JSON Schema, a refusal, CSRF refusals,
# Arabic right to left, labels and focus, an auditor without payloads, and
# sign-out. Screenshots of the main pages go to $TRM_SCREENSHOTS when set.
source "$(dirname "$0")/agent_setup.sh" "$@"
dev_node rules

for org in bg-ngo bg-naptip; do
  dev_profile $org $org
  cat >"$org/agent.json" <<JSON
{"profile": "client.json", "listen": "127.0.0.1:0", "data_dir": "store",
 "users_file": "users.json", "watch_seconds": 1}
JSON
  "$AGENT" user add --users "$org/users.json" --name casey --role caseworker >"$org/casey.token" 2>/dev/null
  check "user add ($org)" 0 $?
done
echo "amira's long password" | "$AGENT" user add --users bg-naptip/users.json --name amira \
  --role caseworker --password-stdin >/dev/null 2>&1
check "a caseworker with a password" 0 $?
echo "audrey's long password" | "$AGENT" user add --users bg-naptip/users.json --name audrey \
  --role auditor --password-stdin >/dev/null 2>&1
check "an auditor with a password" 0 $?

start_agents bg-ngo bg-naptip

mkdir -p shots
/usr/bin/python3 "$HERE/console_check.py" "$(cat bg-naptip/url)" "$(cat bg-ngo/url)" \
  "$(cat bg-ngo/casey.token)" "$(cat bg-naptip/casey.token)" "$(polls 100)" shots
check "the console in headless Chromium (console_check.py)" 0 $?
if [ -n "${TRM_SCREENSHOTS:-}" ]; then
  mkdir -p "$TRM_SCREENSHOTS" && cp shots/*.png "$TRM_SCREENSHOTS/"
fi
exit "$fail"
