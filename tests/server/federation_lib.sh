# Shared by the federation tests: a federation CA and certificates, keys,
# and a signed directory for three nodes (BG, NG, IT on free loopback ports)
# with one organisation each (bg-ngo, ng-naptip, it-ngo) and BG's coordinator
# (bg-nrm), and two auditors (grevio for every node, it-only for IT); node
# configs and
# start. Source it in a fresh working directory with BROKER, TRMCTL and PKI
# set; it sets bg_port, ng_port, it_port and uses the array pids.
# polls (tests/checks.sh) for the scripts that do not load checks.sh.
type polls >/dev/null 2>&1 || polls() { echo $(( $1 * ${TRM_WAIT_SCALE:-3} )); }
# The three nodes' ports are chosen with all three sockets open, so they
# differ: two separate bind(0) calls can return the same port (about one
# pair in 3,000 here). free_port gives one more, never one of those.
read -r bg_port ng_port it_port < <(python3 -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
free_port() {
  local p
  while :; do
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    case " $bg_port $ng_port $it_port " in *" $p "*) ;; *) echo "$p"; return ;; esac
  done
}
bash "$PKI" pki ca "federation test CA" >/dev/null
for n in bg ng it; do bash "$PKI" pki node $n >/dev/null; done
for o in bg-ngo bg-nrm ng-naptip it-ngo; do bash "$PKI" pki org $o >/dev/null; done
bash "$PKI" pki auditor grevio >/dev/null
bash "$PKI" pki auditor it-only >/dev/null
mkdir keys
for o in authority bg-node ng-node it-node bg-ngo bg-nrm ng-naptip it-ngo; do "$TRMCTL" keygen --org $o --dir keys >/dev/null; done
cat >spec.json <<JSON
{"federation": "federation-test", "serial": 1,
 "nodes": [
   {"id": "bg", "country": "BG", "endpoint": "127.0.0.1:$bg_port", "tls_identity": "trm://node/bg",
    "signing_keys": [{"public_key_file": "keys/bg-node.sign.pub"}]},
   {"id": "ng", "country": "NG", "endpoint": "127.0.0.1:$ng_port", "tls_identity": "trm://node/ng",
    "signing_keys": [{"public_key_file": "keys/ng-node.sign.pub"}]},
   {"id": "it", "country": "IT", "endpoint": "127.0.0.1:$it_port", "tls_identity": "trm://node/it",
    "signing_keys": [{"public_key_file": "keys/it-node.sign.pub"}]}],
 "organisations": [
   {"id": "bg-ngo", "home_node": "bg", "roles": ["NGO"], "tls_identity": "trm://org/bg-ngo",
    "signing_keys": [{"public_key_file": "keys/bg-ngo.sign.pub"}],
    "encryption_keys": [{"public_key_file": "keys/bg-ngo.enc.pub"}]},
   {"id": "bg-nrm", "home_node": "bg", "roles": ["NATIONAL_COORDINATOR"], "tls_identity": "trm://org/bg-nrm",
    "signing_keys": [{"public_key_file": "keys/bg-nrm.sign.pub"}],
    "encryption_keys": [{"public_key_file": "keys/bg-nrm.enc.pub"}]},
   {"id": "ng-naptip", "home_node": "ng", "roles": ["NATIONAL_COORDINATOR"], "tls_identity": "trm://org/ng-naptip",
    "signing_keys": [{"public_key_file": "keys/ng-naptip.sign.pub"}],
    "encryption_keys": [{"public_key_file": "keys/ng-naptip.enc.pub"}]},
   {"id": "it-ngo", "home_node": "it", "roles": ["NGO"], "tls_identity": "trm://org/it-ngo",
    "signing_keys": [{"public_key_file": "keys/it-ngo.sign.pub"}],
    "encryption_keys": [{"public_key_file": "keys/it-ngo.enc.pub"}]}],
 "auditors": [
   {"id": "grevio", "tls_identity": "trm://auditor/grevio", "scope": "ALL_NODES"},
   {"id": "it-only", "tls_identity": "trm://auditor/it-only", "scope": "LISTED_NODES", "nodes": ["it"]}]}
JSON
"$TRMCTL" directory sign --in spec.json --authority-key keys/authority.sign.key --out directory.signed >/dev/null
node_config() {  # node_config ID PORT CERT_ID
  cat >"$1.json" <<JSON
{"node_id": "$1", "listen": "127.0.0.1:$2", "data_dir": "data-$1", "node_signing_key": "keys/$1-node.sign.key",
 "_case_rules": "transport tests; cases_test.sh and return_test.sh turn them on",
 "case_rules": {"enforce": false},
 "directory": "directory.signed", "authority_public_key": "keys/authority.sign.pub",
 "tls": {"ca": "pki/ca.crt", "cert": "pki/node-$3.crt", "key": "pki/node-$3.key"},
 "relay": {"max_backoff_seconds": 1, "breaker_open_seconds": 2, "witness_seconds": 1}}
JSON
}
start() {  # start ID
  # The log is appended to: wait for a "serving on" line of this start.
  # (grep -c exits 1 on no match: callers may run under set -e.)
  local before; before=$(grep -c "serving on" "$1.log" 2>/dev/null || true)
  "$BROKER" --config "$1.json" >>"$1.log" 2>&1 &
  pids[$1]=$!
  for _ in $(seq 1 "$(polls 100)"); do
    [ "$(grep -c "serving on" "$1.log" || true)" -gt "${before:-0}" ] && return 0; sleep 0.05
  done
  echo "FAIL: node $1 did not start"; cat "$1.log"; exit 1
}
