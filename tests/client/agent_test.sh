#!/usr/bin/env bash
# trm-agent on a real node: two organisations' agents, one message sent
# through one agent's JSON API and read, opened and marked through the
# other's; each refusal of the API as {reason, message, path} with its HTTP
# status; the OpenAPI document walked against the routes that answer.
source "$(dirname "$0")/agent_setup.sh" "$@"
dev_node

# One folder per organisation: its client profile, users and agent config.
for org in bg-ngo bg-naptip; do
  dev_profile $org $org
  cat >"$org/agent.json" <<JSON
{"profile": "client.json", "listen": "127.0.0.1:0", "data_dir": "store",
 "users_file": "users.json", "watch_seconds": 1,
 "metrics_listen": "127.0.0.1:0"}
JSON
  "$AGENT" user add --users "$org/users.json" --name casey --role caseworker >"$org/casey.token" 2>/dev/null
  check "user add ($org)" 0 $?
  "$AGENT" user add --users "$org/users.json" --name audrey --role auditor >"$org/audrey.token" 2>/dev/null
done
echo "a long enough password" | "$AGENT" user add --users bg-naptip/users.json --name amira \
  --role caseworker --password-stdin >/dev/null 2>&1
check "user add with a password" 0 $?
echo "short" | "$AGENT" user add --users bg-naptip/users.json --name sam --password-stdin >out 2>&1
check "a short password is refused" 2 $?
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

start_agents bg-ngo bg-naptip

python3 "$HERE/agent_api_check.py" "$(cat bg-ngo/url)" "$(cat bg-ngo/casey.token)" \
  "$(cat bg-naptip/url)" "$(cat bg-naptip/casey.token)" "$(cat bg-naptip/audrey.token)" \
  "$(polls 100)" amira "a long enough password"
check "the API run (agent_api_check.py)" 0 $?

# The Python client of docs/integration.md, as it is there, against these
# agents: it sends, then waits for the recipient's signed acknowledgement.
EXAMPLE=$HERE/../../docs/examples/python/send_referral.py
python3 -c 'import sys; code, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read(); sys.exit(0 if "```python\n" + code + "```" in doc else 1)' \
  "$EXAMPLE" "$HERE/../../docs/integration.md"
check "docs/integration.md shows docs/examples/python/send_referral.py as it is" 0 $?
lines=$(grep -cv '^\s*$' "$EXAMPLE")
[ "$lines" -le 40 ]; check "the Python client is short ($lines lines)" 0 $?
base=$(cat bg-ngo/url)
python3 "$EXAMPLE" "$base" "$(cat bg-ngo/casey.token)" bg-naptip@bg BG-2026-42 \
  "$(( $(polls 100) / 5 ))" >out 2>&1
check "the Python client sends and sees it acknowledged" 0 $?
contains "it prints the receipt" "^sent [0-9a-f]\{32\} accepted by node bg, receipt valid" out
# Offline keys here: the acknowledgement is kept, and checked where the
# profile names a signed directory.
contains "it prints the acknowledgement" "^  acknowledgement: not checked: no signed directory" out
contains "it ends acknowledged" "^status: ACKNOWLEDGED" out
python3 "$EXAMPLE" "$base" "$(cat bg-ngo/casey.token)" xx-nobody@bg BG-2026-43 >out 2>&1
check "the Python client stops on an API error" 1 $?
contains "with the API's reason and path" "^POST /api/v1/messages: KEY_FILE_IO: .* (at '" out

# A message whose header disagrees with its payload (sealed by the
# independent implementation, which takes nothing from the payload): the
# receiving agent refuses it, signed; it is never stored, the event stream
# says so, and the sender's node shows why.
node="--node 127.0.0.1:$port --insecure-dev"
sealed_mismatch mismatch.env keys/bg-ngo.sign.key keys/bg-naptip.enc.pub bg-ngo@bg bg-naptip@bg \
  BG-2026-44
"$TRMCTL" --json submit $node --token-file keys/bg-ngo.token --in mismatch.env >out 2>&1
check "submit a header that disagrees with its payload" 0 $?
mismatch=$(python3 -c 'import json; print(json.load(open("out"))["message_id"])')
for _ in $(seq 1 "$(polls 100)"); do
  "$TRMCTL" status $node --token-file keys/bg-ngo.token "$mismatch" >out 2>&1
  grep -q "REFUSED" out && break
  sleep 0.1
done
contains "the agent refused it, and the sender sees why" "reason_code: REFUSED_HEADER_PAYLOAD_MISMATCH" out
contains "the agent logs the refusal" "refused CONSENT_RECORD $mismatch from bg-ngo (case BG-2026-44) as HEADER_PAYLOAD_MISMATCH" bg-naptip/agent.log
python3 "$HERE/agent_refused_check.py" "$(cat bg-naptip/url)" "$(cat bg-naptip/casey.token)" "$mismatch"
check "not stored; the event stream says refused" 0 $?

# Health and metrics: the receiving agent stored two, refused one.
fetch() {
  python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())' "$1"
}
murl=$(sed -n 's/.*metrics at \(http:[^ ]*\)$/\1/p' bg-naptip/agent.log)
fetch "$murl" >metrics; check "GET /metrics" 0 $?
contains "stored counted" "^trm_agent_stored_total 2$" metrics
contains "refused counted" "^trm_agent_refused_total 1$" metrics
contains "the intake is not failing" "^trm_agent_intake_failing 0$" metrics
fetch "$(cat bg-naptip/url)/api/v1/health" >health; check "GET /api/v1/health" 0 $?
contains "serving" '"status":"serving"' health
# The node goes away: the agent's health says so, with the reason.
kill -9 "${pids[0]}"
for _ in $(seq 1 "$(polls 300)"); do
  fetch "$(cat bg-naptip/url)/api/v1/health" >health
  grep -q degraded health && break
  sleep 0.1
done
contains "degraded when the node is gone" '"status":"degraded"' health
contains "with the reason" '"reason":"[A-Z_]*"' health
fetch "$murl" >metrics
contains "the metric says so too" "^trm_agent_intake_failing 1$" metrics

# The stored copy is sealed: the payload's text is nowhere on the agent's disk.
if grep -rq "needs a shelter bed" bg-naptip/store; then
  echo "FAIL: a payload reached the agent's disk in plaintext"; exit 1
fi
[ "$fail" = 0 ] && echo "agent test passed"
exit "$fail"
