# Shared by the trm-agent shell tests; source it after tests/checks.sh, in
# the test's working directory, with BROKER and TRMCTL set and an array
# `pids` (every process started is added to it, for the test's cleanup).

# dev_node [rules]: keys for bg-node, bg-ngo and bg-naptip in keys/, and a
# development node "bg" (token sign-in on loopback; case rules off, or on
# with "rules") with those two organisations, started; sets `port`.
dev_node() {
  local enforce=false
  [ "${1:-}" = rules ] && enforce=true
  mkdir -p keys
  local org
  for org in bg-node bg-ngo bg-naptip; do
    "$TRMCTL" --json keygen --org $org --dir keys >"keys/$org.json" ||
      { echo "FAIL: keygen $org"; exit 1; }
  done
  sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_sha256"])' "keys/$1.json"; }
  cat >node.json <<JSON
{
  "node_id": "bg", "listen": "127.0.0.1:0", "data_dir": "data",
  "node_signing_key": "keys/bg-node.sign.key",
  "case_rules": {"enforce": $enforce},
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
}

# dev_profile ORG DIR: DIR/client.json, ORG's client profile for the
# development node (its token, offline keys from keys/).
dev_profile() {
  mkdir -p "$2"
  cat >"$2/client.json" <<JSON
{"node": "127.0.0.1:$port", "token_file": "../keys/$1.token", "org": "$1",
 "home_node": "bg", "sign_key": "../keys/$1.sign.key",
 "encryption_key": "../keys/$1.enc.key", "keys_dir": "../keys",
 "node_pub": "../keys/bg-node.sign.pub"}
JSON
}

# agent_url LOG: waits for the agent logging to LOG to serve, and prints
# its base URL (http[s]://HOST:PORT, without /api/v1/).
agent_url() {
  local url=""
  for _ in $(seq 1 "$(polls 100)"); do
    url=$(sed -n 's|.*API at \(https\{0,1\}://[^ ]*\)/api/v1/ .*|\1|p' "$1" | tail -1)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "FAIL: the agent did not start" >&2; cat "$1" >&2; return 1; }
  echo "$url"
}

# track_pid PID: how a started process is remembered for the cleanup (the
# array `pids`; a test whose `pids` is another kind of array redefines it).
track_pid() { pids+=("$1"); }

# start_agents ORG...: starts each ORG's agent (ORG/agent.json, logging to
# ORG/agent.log) and writes its base URL to ORG/url once it serves.
start_agents() {
  local org
  for org in "$@"; do
    "$AGENT" --config "$org/agent.json" >"$org/agent.log" 2>&1 &
    track_pid $!
  done
  for org in "$@"; do
    agent_url "$org/agent.log" >"$org/url" || exit 1
  done
}
