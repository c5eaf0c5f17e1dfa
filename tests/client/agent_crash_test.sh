#!/usr/bin/env bash
# trm-agent killed with -9 at random moments while messages arrive, ten
# times: every message the node shows as acknowledged is in the agent's
# store and opens (nothing was acknowledged before it was stored), and once
# the agent runs again every message sent is acknowledged (nothing lost).
#   agent_crash_test.sh TRM_BROKER TRMCTL TRM_AGENT [MESSAGES] [KILLS]
set -u
CHECKS=$(cd "$(dirname "$0")/.." && pwd)/checks.sh
HERE=$(cd "$(dirname "$0")" && pwd)
BROKER=$(readlink -f "$1")
TRMCTL=$(readlink -f "$2")
AGENT=$(readlink -f "$3")
MESSAGES=${4:-120}
KILLS=${5:-10}
work=$(mktemp -d)
pids=()
agent_pid=""
cleanup() {
  for p in "${pids[@]}" $agent_pid; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
source "$CHECKS"

source "$HERE/agent_lib.sh"
dev_node
node="--node 127.0.0.1:$port --insecure-dev"

dev_profile bg-naptip agent
# A small pull window, so that a kill often lands inside a batch.
cat >agent/agent.json <<JSON
{"profile": "client.json", "listen": "127.0.0.1:0", "data_dir": "store",
 "users_file": "users.json", "pull_window": 4}
JSON
"$AGENT" user add --users agent/users.json --name casey --role caseworker >agent/token 2>/dev/null
check "user add" 0 $?

start_agent() {
  "$AGENT" --config agent/agent.json >agent/agent.log 2>&1 &
  agent_pid=$!
}

# The sender: one message after another in the background, each id kept.
payload_file referral referral-request
(
  for i in $(seq 1 "$MESSAGES"); do
    "$TRMCTL" --json send $node --token-file keys/bg-ngo.token --type referral-request \
      --case "BG-2026-$i" --from bg-ngo@bg --to bg-naptip@bg --sign-key keys/bg-ngo.sign.key \
      --recipient-pub keys/bg-naptip.enc.pub --in referral >send.out 2>&1 &&
      python3 -c 'import json; print(json.load(open("send.out"))["message_id"])' >>sent.ids
  done
  echo done >sender.done
) &
pids+=($!)

# Ten kills while the sender runs and the agent pulls: kill k once the
# sender has sent its k-th share of the messages, after a random pause of
# 0.1 to 0.8 s more.
sent_count() { wc -l <sent.ids 2>/dev/null || echo 0; }
start_agent
for k in $(seq 1 "$KILLS"); do
  for _ in $(seq 1 "$(polls 600)"); do
    [ "$(sent_count)" -ge $(( k * MESSAGES / (KILLS + 1) )) ] && break
    sleep 0.05
  done
  sleep "0.$(( RANDOM % 8 + 1 ))"
  kill -9 "$agent_pid" 2>/dev/null
  wait "$agent_pid" 2>/dev/null
  echo "kill $k: $(sent_count) sent so far" >>kills.log
  start_agent
done
cat kills.log

for _ in $(seq 1 "$(polls 600)"); do [ -f sender.done ] && break; sleep 0.1; done
[ -f sender.done ]; check "the sender finished" 0 $?
sent=$(wc -l <sent.ids)
check "every message was sent" "$MESSAGES" "$sent"

# Every id the node shows as acknowledged must be in the agent's store and
# open; with the agent running, each is acknowledged in the end.
url=$(agent_url agent/agent.log)/api/v1/ || exit 1
python3 - "$url" "$(cat agent/token)" "$TRMCTL" "127.0.0.1:$port" "$(polls 600)" <<'PY'
import json, subprocess, sys, time, urllib.error, urllib.request
url, token, trmctl, node, polls = sys.argv[1:6]
ids = [l.strip() for l in open("sent.ids") if l.strip()]

def state(mid):
    out = subprocess.run([trmctl, "status", "--node", node, "--insecure-dev",
                          "--token-file", "keys/bg-ngo.token", mid],
                         capture_output=True, text=True).stdout
    return out.split("\n")[0].split(": ")[-1].split(" ")[0]

def opens(mid):
    req = urllib.request.Request(url + "messages/" + mid,
                                 headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            m = json.load(r)
    except urllib.error.HTTPError as e:
        m = {"http": e.code, "body": e.read().decode()}
    if "payload" in m:
        return True
    print("  %s: %s" % (mid, json.dumps(m)[:400]))
    return False

# First, before waiting: what the node holds as acknowledged now.
acked_early = [m for m in ids if state(m) == "ACKNOWLEDGED"]
missing = [m for m in acked_early if not opens(m)]
print("acknowledged at the node after the kills: %d of %d; in the agent's "
      "store and opening: %d" % (len(acked_early), len(ids),
                                 len(acked_early) - len(missing)))
if missing:
    sys.exit("FAIL: acknowledged but not in the agent's store: " +
             ", ".join(missing))
# Then: the agent takes the rest; each is acknowledged and opens.
left = [m for m in ids if m not in acked_early]
for _ in range(int(polls)):
    left = [m for m in left if state(m) != "ACKNOWLEDGED"]
    if not left:
        break
    time.sleep(0.1)
if left:
    sys.exit("FAIL: never acknowledged: " + ", ".join(left))
missing = [m for m in ids if not opens(m)]
if missing:
    sys.exit("FAIL: not in the agent's store: " + ", ".join(missing))
print("all %d acknowledged, stored and opening" % len(ids))
PY
check "acknowledged only once stored, and nothing lost" 0 $?
[ "$fail" = 0 ] && echo "agent crash test passed"
exit "$fail"
