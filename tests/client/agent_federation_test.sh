#!/usr/bin/env bash
# Two organisations' trm-agents on two real nodes (BG, NG) over mutual TLS,
# with the signed directory and the case rules on: the whole BG -> NG return
# driven through the agents' JSON API only, served over HTTPS
# (tests/client/agent_return_check.py). Keys come from the directory; no
# key file of another organisation is given to either agent.
#   agent_federation_test.sh TRM_BROKER TRMCTL TRM_AGENT
source "$(dirname "$0")/agent_federation_setup.sh" "$@"
for org in bg-ngo ng-naptip; do
  "$AGENT" --config "$org/agent.json" --check-config >out 2>&1
  check "--check-config ($org)" 0 $?
  contains "the API is HTTPS" "API on https://127.0.0.1:0" out
done
start_agents bg-ngo ng-naptip

# Plain HTTP to an HTTPS agent gets nothing.
python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1].replace("https:", "http:") + "/api/v1/health", timeout=10)' \
  "$(cat bg-ngo/url)" >out 2>&1
check "no plain HTTP on an HTTPS agent" 1 $?

python3 "$CLIENT_TESTS/agent_return_check.py" \
  "$(cat bg-ngo/url)" "$(cat bg-ngo/token)" bg-ngo/https.crt \
  "$(cat ng-naptip/url)" "$(cat ng-naptip/token)" ng-naptip/https.crt "$(polls 300)"
check "the return through the agents' API (agent_return_check.py)" 0 $?
for org in bg-ngo ng-naptip; do
  if grep -rq "Ada Obi\|vocational training" "$org/store"; then
    echo "FAIL: a payload reached $org's agent disk in plaintext"; fail=1
  fi
done
[ "$fail" = 0 ] && echo "agent federation test passed"
exit "$fail"
