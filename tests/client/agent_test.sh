#!/usr/bin/env bash
# trm-agent on a real node: two organisations' agents, one message sent
# through one agent's JSON API and read, opened and marked through the
# other's; each refusal of the API as {reason, message, path} with its HTTP
# status; the OpenAPI document walked against the routes that answer.
set -u
CHECKS=$(cd "$(dirname "$0")/.." && pwd)/checks.sh
BROKER=$(readlink -f "$1")
TRMCTL=$(readlink -f "$2")
AGENT=$(readlink -f "$3")
HERE=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
source "$CHECKS"

mkdir keys
for org in bg-node bg-ngo bg-naptip; do
  "$TRMCTL" --json keygen --org $org --dir keys >"keys/$org.json" || { echo "keygen failed"; exit 1; }
done
sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_sha256"])' "keys/$1.json"; }
cat >node.json <<JSON
{
  "node_id": "bg", "listen": "127.0.0.1:0", "data_dir": "data",
  "node_signing_key": "keys/bg-node.sign.key",
  "case_rules": {"enforce": false},
  "organisations": [
    {"id": "bg-ngo", "signing_public_key": "keys/bg-ngo.sign.pub", "encryption_public_key": "keys/bg-ngo.enc.pub", "token_sha256": "$(sha bg-ngo)"},
    {"id": "bg-naptip", "signing_public_key": "keys/bg-naptip.sign.pub", "encryption_public_key": "keys/bg-naptip.enc.pub", "token_sha256": "$(sha bg-naptip)"}
  ]
}
JSON
"$BROKER" --config node.json --insecure-dev >broker.log 2>&1 &
pids+=($!)
port=""
for _ in $(seq 1 "$(polls 100)"); do
  port=$(sed -n 's/.*serving on 127.0.0.1:\([0-9]*\).*/\1/p' broker.log)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: broker did not start"; cat broker.log; exit 1; }

# One folder per organisation: its client profile, users and agent config.
for org in bg-ngo bg-naptip; do
  mkdir "$org"
  cat >"$org/client.json" <<JSON
{"node": "127.0.0.1:$port", "token_file": "../keys/$org.token", "org": "$org",
 "home_node": "bg", "sign_key": "../keys/$org.sign.key",
 "encryption_key": "../keys/$org.enc.key", "keys_dir": "../keys",
 "node_pub": "../keys/bg-node.sign.pub"}
JSON
  cat >"$org/agent.json" <<JSON
{"profile": "client.json", "listen": "127.0.0.1:0", "data_dir": "store",
 "users_file": "users.json"}
JSON
  "$AGENT" user add --users "$org/users.json" --name casey --role caseworker >"$org/casey.token" 2>/dev/null
  check "user add ($org)" 0 $?
  "$AGENT" user add --users "$org/users.json" --name audrey --role auditor >"$org/audrey.token" 2>/dev/null
done
mode=$(stat -c %a bg-ngo/users.json)
check "the users file is 0600" 600 "$mode"
if grep -q "$(cat bg-ngo/casey.token)" bg-ngo/users.json; then
  echo "FAIL: the users file holds a token in clear"; exit 1
fi

"$AGENT" --config bg-ngo/agent.json --check-config >out 2>&1
check "--check-config" 0 $?
contains "check-config report" "configuration OK: organisation bg-ngo at node bg" out
echo '{"profile": "client.json", "listen": "0.0.0.0:8480", "data_dir": "s", "users_file": "users.json"}' >bg-ngo/open.json
"$AGENT" --config bg-ngo/open.json --check-config >out 2>&1
check "off loopback without TLS" 2 $?
contains "TLS required off loopback" "CONFIG_INVALID.*must use TLS" out

for org in bg-ngo bg-naptip; do
  "$AGENT" --config "$org/agent.json" >"$org/agent.log" 2>&1 &
  pids+=($!)
done
for org in bg-ngo bg-naptip; do
  url=""
  for _ in $(seq 1 "$(polls 100)"); do
    url=$(sed -n 's/.*API at \(http:[^ ]*\) .*/\1/p' "$org/agent.log")
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "FAIL: agent $org did not start"; cat "$org/agent.log"; exit 1; }
  echo "$url" >"$org/url"
done

python3 "$HERE/agent_api_check.py" "$(cat bg-ngo/url)" "$(cat bg-ngo/casey.token)" \
  "$(cat bg-naptip/url)" "$(cat bg-naptip/casey.token)" "$(cat bg-naptip/audrey.token)" \
  "$(polls 100)"
check "the API run (agent_api_check.py)" 0 $?

# The stored copy is sealed: the payload's text is nowhere on the agent's disk.
if grep -rq "needs a shelter bed" bg-naptip/store; then
  echo "FAIL: a payload reached the agent's disk in plaintext"; exit 1
fi
[ "$fail" = 0 ] && echo "agent test passed"
exit "$fail"
