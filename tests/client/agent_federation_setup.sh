# The start of a two-node trm-agent test: source it with the test's
# arguments (TRM_BROKER TRMCTL TRM_AGENT). It starts nodes BG and NG over
# mutual TLS with the signed directory and the case rules on
# (federation_test_lib.sh), and prepares the agents of bg-ngo and ng-naptip
# in ORG/: a client profile (mutual TLS to its node, the directory), an
# HTTPS certificate for 127.0.0.1, agent.json and a caseworker "casey"
# whose API token is in ORG/token. Start them with start_agents once
# the test has added what it needs (users, configuration): start_agents
# (agent_lib.sh) writes each one's URL to ORG/url. Sets CLIENT_TESTS (tests/client).
set -u
AGENT=$(readlink -f "$3")
source "$(dirname "${BASH_SOURCE[0]}")/../server/federation_test_lib.sh" "$1" "$2"
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
done
source "$CLIENT_TESTS/agent_lib.sh"

# The federation's `pids` is keyed by node: the agents are kept apart.
track_pid() { agent_pids+=("$1"); }
