#!/usr/bin/env bash
# Two organisations' trm-agents on two real nodes (BG, NG) over mutual TLS,
# with the signed directory and the case rules on: the whole BG -> NG return
# driven through the agents' JSON API only, served over HTTPS
# (tests/client/agent_return_check.py). Keys come from the directory; no
# key file of another organisation is given to either agent.
#   agent_federation_test.sh TRM_BROKER TRMCTL TRM_AGENT
set -u
AGENT=$(readlink -f "$3")
source "$(dirname "$0")/../server/federation_test_lib.sh" "$1" "$2"
CLIENT_TESTS=$HERE/../client
agent_pids=()
trap 'for p in "${agent_pids[@]}"; do kill -9 "$p" 2>/dev/null; done; cleanup' EXIT

for n in bg ng; do
  port_var=${n}_port
  node_config $n "${!port_var}" $n
  python3 - "$n.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["case_rules"] = {"enforce": True}
json.dump(c, open(sys.argv[1], "w"))
PY
  start $n
done

# Each agent: its client profile (mutual TLS to its node, the directory),
# its users, and its own HTTPS certificate for 127.0.0.1.
for org in bg-ngo ng-naptip; do
  n=${org%%-*}; port_var=${n}_port
  mkdir "$org"
  cat >"$org/client.json" <<JSON
{"node": "127.0.0.1:${!port_var}", "ca": "../pki/ca.crt", "cert": "../pki/org-$org.crt",
 "key": "../pki/org-$org.key", "org": "$org", "home_node": "$n",
 "sign_key": "../keys/$org.sign.key", "encryption_key": "../keys/$org.enc.key",
 "directory": "../directory.signed", "authority_pub": "../keys/authority.sign.pub"}
JSON
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=trm-agent $org" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$org/https.key" -out "$org/https.crt" >/dev/null 2>&1
  check "an HTTPS certificate for $org's agent" 0 $?
  chmod 600 "$org/https.key"
  cat >"$org/agent.json" <<JSON
{"profile": "client.json", "listen": "127.0.0.1:0", "data_dir": "store",
 "users_file": "users.json", "tls_cert": "https.crt", "tls_key": "https.key",
 "watch_seconds": 1}
JSON
  "$AGENT" user add --users "$org/users.json" --name casey --role caseworker >"$org/token" 2>/dev/null
  check "user add ($org)" 0 $?
  "$AGENT" --config "$org/agent.json" --check-config >out 2>&1
  check "--check-config ($org)" 0 $?
  contains "the API is HTTPS" "API on https://127.0.0.1:0" out
  "$AGENT" --config "$org/agent.json" >"$org/agent.log" 2>&1 &
  agent_pids+=($!)
done
source "$CLIENT_TESTS/agent_lib.sh"
for org in bg-ngo ng-naptip; do
  agent_url "$org/agent.log" >"$org/url" || exit 1
done

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
