# Shared by bench/node.sh and bench/backlog.sh: builds the release binaries,
# makes keys and a one-node config in a temporary directory, and starts and
# stops the node. Source it from the repository root.
# BENCH_DEPLOYED=1 runs the node as deployed: signed acknowledgements
# required (consume() signs each one as bg-naptip) and case rules enforced.
bench_setup() {
  ./scripts/install-deps.sh >/dev/null
  # BENCH_PRESET=default measures the everyday build instead (same code, -O2).
  local preset=${BENCH_PRESET:-release}
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" --target trm-broker trmctl trm_load backlog_fill audit_bench >/dev/null
  bin="$(pwd)/build/$preset"
  work=$(mktemp -d); pid=""
  trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
  cd "$work"; mkdir keys
  for o in bg-node bg-ngo bg-naptip; do "$bin/client/trmctl" --json keygen --org $o --dir keys >keys/$o.json; done
  sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_sha256"])' keys/$1.json; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local deployed='"_ack": "unsigned acknowledgements, as the single-node figures since issue 3 (docs/benchmarks.md)",
 "require_signed_acknowledgements": false,'
  ack_flags=""
  if [ "${BENCH_DEPLOYED:-0}" = 1 ]; then
    deployed='"require_signed_acknowledgements": true, "case_rules": {"enforce": true},'
    ack_flags="--sign-key keys/bg-naptip.sign.key"
  fi
  cat >node.json <<JSON
{"node_id": "bg", "listen": "127.0.0.1:$port", "data_dir": "data", "node_signing_key": "keys/bg-node.sign.key",
 $deployed
 "organisations": [
  {"id": "bg-ngo", "signing_public_key": "keys/bg-ngo.sign.pub", "encryption_public_key": "keys/bg-ngo.enc.pub", "token_sha256": "$(sha bg-ngo)", "max_queued_bytes": 100000000000},
  {"id": "bg-naptip", "signing_public_key": "keys/bg-naptip.sign.pub", "encryption_public_key": "keys/bg-naptip.enc.pub", "token_sha256": "$(sha bg-naptip)", "max_queued_bytes": 100000000000}]}
JSON
  hz=$(getconf CLK_TCK)
}

# Starts the node and sets ready_ms to the milliseconds from exec to
# "serving on" (store opened and recovered, gRPC listening).
start_node() {
  : >broker.log
  local t0; t0=$(date +%s%N)
  "$bin/server/trm-broker" --config node.json --insecure-dev ${BROKER_FLAGS:-} >broker.log 2>&1 & pid=$!
  for _ in $(seq 1 3000); do grep -q "serving on" broker.log && break; sleep 0.005; done
  ready_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  grep -q "serving on" broker.log || { cat broker.log; echo "node did not start" >&2; exit 1; }
}
stop_node() { kill -TERM $pid; wait $pid || true; pid=""; }
ticks() { awk '{print $14 + $15}' /proc/$pid/stat; }
peak_rss_mib() { awk '/VmHWM/ {print int($2 / 1024)}' /proc/$pid/status; }

# produce N W: pre-sealed SIZE-byte envelopes from bg-ngo to bg-naptip, W in
# flight (SubmitBatches of W/2, or LOAD_FLAGS); prints trm_load's line plus
# broker CPU per message.
produce() {
  local n=$1 w=$2 t0 t1 line
  t0=$(ticks)
  line=$("$bin/bench/trm_load" produce --node 127.0.0.1:$port --token-file keys/bg-ngo.token \
    --sign-key keys/bg-ngo.sign.key --recipient-pub keys/bg-naptip.enc.pub \
    --from bg-ngo@bg --to bg-naptip@bg --count "$n" --window "$w" --size "$SIZE" ${LOAD_FLAGS:---batch $(( w / 2 ))})
  t1=$(ticks)
  echo "${line#produce: } broker CPU $(( (t1 - t0) * 1000000 / hz / n )) us/msg"
}
# consume N: receives and acknowledges N messages as bg-naptip.
consume() {
  local n=$1 t0 t1 line
  t0=$(ticks)
  line=$("$bin/bench/trm_load" consume --node 127.0.0.1:$port --token-file keys/bg-naptip.token --expect "$n" $ack_flags ${CONSUME_FLAGS:-})
  t1=$(ticks)
  echo "${line#consume: } broker CPU $(( (t1 - t0) * 1000000 / hz / n )) us/msg"
}
# Waits until the node has used under 5% of a core for a whole second (its
# background compactions have settled), at most 300 s; sets settle_s.
wait_idle() {
  local a b
  settle_s=0
  while [ $settle_s -lt 300 ]; do
    a=$(ticks); sleep 1; b=$(ticks); settle_s=$((settle_s + 1))
    [ $(( (b - a) * 100 / hz )) -lt 5 ] && return 0
  done
}
