#!/usr/bin/env bash
# A real trm-broker node with a signed federation directory: start-up
# checks, reloads on SIGHUP and on file change, refused reloads that keep
# the last good directory, and key rotation and revocation taking effect.
set -u
CHECKS=$(cd "$(dirname "$0")/.." && pwd)/checks.sh
BROKER=$(readlink -f "$1")
TRMCTL=$(readlink -f "$2")
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
source "$CHECKS"
# wait_log NAME NEEDLE: the broker log gets NEEDLE within 5 s.
wait_log() {
  for _ in $(seq 1 "$(polls 100)"); do grep -q -- "$2" broker.log && { echo "ok: $1"; return; }; sleep 0.05; done
  echo "FAIL: $1: '$2' not in the log:"; cat broker.log; fail=1
}

mkdir keys inbox
for o in authority other-authority bg-node bg-ngo bg-ngo-next bg-naptip; do
  "$TRMCTL" --json keygen --org $o --dir keys >"keys/$o.json" || { echo "keygen failed"; exit 1; }
done
sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_sha256"])' "keys/$1.json"; }

# Version 1: bg with bg-ngo and bg-naptip; ng with ng-naptip.
# Version 2: bg-ngo's first key revoked an hour ago, its next key valid.
python3 - <<'PY'
import json, datetime
def org(i, home, key):
    return {"id": i, "home_node": home, "roles": ["NGO"], "tls_identity": "trm://org/" + i,
            "signing_keys": [{"public_key_file": "keys/%s.sign.pub" % key}],
            "encryption_keys": [{"public_key_file": "keys/%s.enc.pub" % key}]}
v1 = {"federation": "trm-test", "serial": 1,
      "nodes": [{"id": "bg", "country": "BG", "endpoint": "127.0.0.1:1",
                 "signing_keys": [{"public_key_file": "keys/bg-node.sign.pub"}]},
                {"id": "ng", "country": "NG", "endpoint": "127.0.0.1:2"}],
      "organisations": [org("bg-ngo", "bg", "bg-ngo"), org("bg-naptip", "bg", "bg-naptip"),
                        org("ng-naptip", "ng", "bg-naptip")]}
json.dump(v1, open("v1.json", "w"))
hour_ago = (datetime.datetime.utcnow() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
v2 = json.loads(json.dumps(v1))
v2["serial"] = 2
keys = v2["organisations"][0]["signing_keys"]
keys[0]["revoked"] = hour_ago
keys[0]["revocation_reason"] = "laptop stolen"
keys.append({"public_key_file": "keys/bg-ngo-next.sign.pub", "valid_from": hour_ago})
json.dump(v2, open("v2.json", "w"))
PY
sign() { "$TRMCTL" directory sign --in "$1" --authority-key "keys/$2.sign.key" --out "$3" >/dev/null || { echo "FAIL: sign $1"; exit 1; }; }
sign v1.json authority d1.signed
sign v2.json authority d2.signed
sign v2.json other-authority foreign.signed
publish() { cp "$1" directory.tmp && mv directory.tmp directory.signed; }
publish d1.signed

config() {  # config NODE_ID EXTRA_ORG_KEYS
  cat >node.json <<JSON
{"node_id": "$1", "listen": "127.0.0.1:0", "data_dir": "data", "node_signing_key": "keys/bg-node.sign.key",
 "_case_rules": "transport test: the case rules have their own tests (cases_test.sh, return_test.sh)",
 "case_rules": {"enforce": false},
 "directory": "directory.signed", "authority_public_key": "keys/authority.sign.pub",
 "organisations": [
   {"id": "bg-ngo", "token_sha256": "$(sha bg-ngo)" $2},
   {"id": "bg-naptip", "token_sha256": "$(sha bg-naptip)"}]}
JSON
}

# Start-up refusals.
config bg ', "signing_public_key": "keys/bg-ngo.sign.pub"'
"$BROKER" --config node.json --insecure-dev >out 2>&1; check "key in config with a directory" 1 $?
contains "key in config reason" "keys come from the signed directory only" out
config it ""
"$BROKER" --config node.json --insecure-dev >out 2>&1; check "node not in directory" 1 $?
contains "node not in directory reason" NODE_NOT_IN_DIRECTORY out
config bg ""
cp foreign.signed directory.signed
"$BROKER" --config node.json --insecure-dev >out 2>&1; check "foreign directory at start" 1 $?
contains "foreign reason" DIRECTORY_SIGNATURE_INVALID out
publish d1.signed

start() {
  "$BROKER" --config node.json --insecure-dev >broker.log 2>&1 &
  pid=$!
  for _ in $(seq 1 "$(polls 100)"); do
    port=$(sed -n 's/.*serving on 127.0.0.1:\([0-9]*\).*/\1/p' broker.log)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: broker did not start:"; cat broker.log; exit 1
}
start
contains "serial 1 at start" "directory trm-test serial 1" broker.log
node="--node 127.0.0.1:$port --insecure-dev"
"$TRMCTL" case payload --type referral-request --text 'reason: "referral"' --out payload >/dev/null
send() {  # send SIGN_KEY TO
  "$TRMCTL" send $node --token-file keys/bg-ngo.token --type referral-request --case BG-1 \
    --from bg-ngo@bg --to "$2@bg" --sign-key "keys/$1.sign.key" \
    --recipient-pub keys/bg-naptip.enc.pub --in payload >out 2>&1
}
send bg-ngo bg-naptip; check "send with directory serial 1" 0 $?
send bg-ngo-next bg-naptip; check "next key not yet listed" 1 $?
contains "unlisted key reason" SENDER_KEY_UNKNOWN out
send bg-ngo ng-naptip; check "organisation of another node" 1 $?
contains "other node reason" UNKNOWN_RECIPIENT out

# A foreign-signed file is refused on change; the node keeps serial 1.
publish foreign.signed
wait_log "foreign reload refused" "directory reload refused: .*DIRECTORY_SIGNATURE_INVALID\|directory reload refused: .*federation authority"
contains "keeps serial 1" "keeping serial 1" broker.log
send bg-ngo bg-naptip; check "still serving with serial 1" 0 $?

# Version 2 by SIGHUP: rotation and revocation take effect.
cp d2.signed directory.signed.new && mv directory.signed.new directory.signed
kill -HUP "$pid"
wait_log "serial 2 loaded" "directory serial 2 loaded"
send bg-ngo bg-naptip; check "revoked key refused" 1 $?
contains "revoked reason" KEY_REVOKED out
contains "revocation reason shown" "laptop stolen" out
send bg-ngo-next bg-naptip; check "next key accepted" 0 $?

# Rolling back to serial 1 is refused; serial 2 stays in force.
publish d1.signed
wait_log "rollback refused" "older than the loaded serial 2"
send bg-ngo bg-naptip; check "still revoked after refused rollback" 1 $?
kill -HUP "$pid"
wait_log "SIGHUP reload refused too" "keeping serial 2"

kill -TERM "$pid"; wait "$pid"; check "SIGTERM" 0 $?; pid=""
exit $fail
