#!/usr/bin/env bash
# trm-broker side by side with RabbitMQ (quorum and classic durable queues,
# publisher confirms) and NATS JetStream (file storage), in one session on
# this machine, with the same workload and the same kind of C or C++ client
# for each. Prints a table and writes it into docs/benchmarks.md.
#
#   ./bench/compare.sh [--quick] [--runs R] [--backlog N] [--no-docs]
#
#   --quick    4 KiB only, windows 1 and 64, 1 and 4 producers: under 10 min.
#   (default)  payloads 256 B, 4 KiB, 64 KiB; windows 1, 16, 64, 256; 1 and
#              4 producers (four queues): under 45 min.
#   --runs R   runs of each cell (default 3); the table shows the median and
#              the min and max.
#   --backlog N  also run bench/backlog.sh with N queued messages (default
#              1000000; 0 skips it, the default with --quick).
#   --no-docs  print only; leave docs/benchmarks.md alone.
#
# trm-broker runs as deployed: "trm-verify" verifies every signature,
# requires signed acknowledgements (its consumers sign each one) and applies
# the case rules; "trm-noverify" is the same node with verification off and
# unsigned acknowledgements, beside it for the price of verification.
#
# Each cell: publish N messages with W unconfirmed (per-message confirm
# latency), then drain them with acknowledgements (trm-broker's consumer
# acknowledges a batch while it receives the next, as RabbitMQ's acknowledges
# while its prefetch window fills: trm_load consume --pipeline). Then, at 4 KiB and
# window 64, paced publish-and-consume at 50% and 80% of each system's
# measured maximum (end-to-end latency), a separate `strace -c` run for
# fsyncs per message, two trm-broker nodes end to end over mutual TLS, and
# the physical limits (fdatasync rate, Ed25519 verification, AEAD). The
# report ends with issue 18's targets, as ratios, each marked met or not.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
quick=0; runs=3; docs=1; backlog=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --runs) runs=$2; shift ;;
    --backlog) backlog=$2; shift ;;
    --no-docs) docs=0 ;;
    *) echo "usage: bench/compare.sh [--quick] [--runs R] [--backlog N] [--no-docs]" >&2; exit 2 ;;
  esac
  shift
done
if [ $quick = 1 ]; then
  sizes="4096"; windows="1 64"; producers="1 4"; backlog=${backlog:-0}
else
  sizes="256 4096 65536"; windows="1 16 64 256"; producers="1 4"; backlog=${backlog:-1000000}
fi

# --- Set-up: packages, release build, load generators.
./scripts/install-deps.sh >/dev/null
need=()
for p in nats-server rabbitmq-server libnats-dev librabbitmq-dev strace gcc openssl; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The Debian package starts a system RabbitMQ on the standard port; this
# benchmark runs its own, with its data in a temporary directory.
if systemctl is-active --quiet rabbitmq-server 2>/dev/null; then systemctl stop rabbitmq-server; fi
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target trm-broker trmctl trm_load crypto_bench >/dev/null
bin=$root/build/release
work=$(mktemp -d /tmp/trm-compare.XXXXXX)
gcc -O2 -Wall -o "$work/natsload" bench/peers/natsload.c -lnats -lpthread
gcc -O2 -Wall -o "$work/rmqload" bench/peers/rmqload.c -lrabbitmq -lpthread
gcc -O2 -Wall -o "$work/fsyncload" bench/peers/fsyncload.c
source bench/peers/servers.sh
trm_pids=()
cleanup() {
  stop_peers
  for p in "${trm_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
results=$work/results.jsonl; : >"$results"
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
started=$(date +%s)

# --- The servers.
for p in 4222 5672; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
    echo "bench/compare.sh: port $p is in use; stop what listens there first" >&2; exit 1
  fi
done
start_nats "$work"
start_rmq "$work"
# Two single trm-broker nodes: signatures verified, and not (the price of
# verification). Both fsync before every receipt.
cd "$work"; mkdir keys
for o in bg-node bg-ngo bg-r0 bg-r1 bg-r2 bg-r3; do
  "$bin/client/trmctl" --json keygen --org $o --dir keys >keys/$o.json
done
sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_sha256"])' "keys/$1.json"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A trm_port trm_pid trm_metrics
for v in verify noverify; do
  trm_port[$v]=$(free_port); trm_metrics[$v]=$(free_port)
  signed_acks=true; [ $v = noverify ] && signed_acks=false
  orgs='{"id": "bg-ngo", "signing_public_key": "keys/bg-ngo.sign.pub", "encryption_public_key": "keys/bg-ngo.enc.pub", "token_sha256": "'$(sha bg-ngo)'"}'
  for r in 0 1 2 3; do
    orgs+=', {"id": "bg-r'$r'", "signing_public_key": "keys/bg-r'$r'.sign.pub", "encryption_public_key": "keys/bg-r'$r'.enc.pub", "token_sha256": "'$(sha bg-r$r)'", "max_queued_bytes": 100000000000}'
  done
  cat >node-$v.json <<JSON
{"node_id": "bg", "listen": "127.0.0.1:${trm_port[$v]}", "data_dir": "data-$v",
 "metrics_listen": "127.0.0.1:${trm_metrics[$v]}",
 "node_signing_key": "keys/bg-node.sign.key", "require_signed_acknowledgements": $signed_acks,
 "case_rules": {"enforce": true},
 "organisations": [$orgs]}
JSON
done
# start_trm V: starts node V (verify or noverify) on an empty data directory
# and waits until it serves.
start_trm() {
  local v=$1 flags=""
  [ "$v" = noverify ] && flags=--no-verify-signatures
  rm -rf "data-$v"; : >"node-$v.log"
  "$bin/server/trm-broker" --config "node-$v.json" --insecure-dev $flags >"node-$v.log" 2>&1 &
  trm_pid[$v]=$!; trm_pids+=("$!")
  for _ in $(seq 1 200); do grep -q "serving on" "node-$v.log" && return 0; sleep 0.05; done
  cat "node-$v.log"; exit 1
}
# fresh SYSTEM: before each publish run, a trm-broker node starts again on
# an empty data directory, as the peers' clients delete and declare their
# stream or queue: every system starts each run from nothing.
fresh() {
  case $1 in
    trm-*) local v=${1#trm-}
      kill -TERM "${trm_pid[$v]}" 2>/dev/null || true; wait "${trm_pid[$v]}" 2>/dev/null || true
      start_trm "$v" ;;
  esac
}
for v in verify noverify; do start_trm "$v"; done

systems="trm-verify trm-noverify rmq-quorum rmq-classic nats"
pid_of() {
  case $1 in
    trm-verify) echo "${trm_pid[verify]}" ;; trm-noverify) echo "${trm_pid[noverify]}" ;;
    rmq-*) echo "$rmq_pid" ;; nats) echo "$nats_pid" ;;
  esac
}
# load SYSTEM MODE P N SIZE W [RATE]: one run of the system's client; prints
# its RESULT line with the broker process's CPU microseconds per message.
load() {
  local sys=$1 mode=$2 p=$3 n=$4 size=$5 w=$6 rate=${7:-0} pid t0 t1 line
  pid=$(pid_of "$sys"); t0=$(ticks "$pid")
  case $sys in
    nats) line=$("$work/natsload" "$mode" "$p" "$n" "$size" "$w" "$rate") ;;
    rmq-*) line=$("$work/rmqload" "${sys#rmq-}" "$mode" "$p" "$n" "$size" "$w" "$rate") ;;
    trm-*) line=$(trm_run "${sys#trm-}" "$mode" "$p" "$n" "$size" "$w" "$rate" | grep '^RESULT') ;;
  esac
  t1=$(ticks "$pid")
  line=$(echo "$line" | grep '^RESULT' | sed -E 's/ (size|window|rate)=[0-9]+//g; s/system=[^ ]+ //; s/mode=[^ ]+ //; s/producers=[0-9]+ //')
  echo "RESULT system=$sys mode=$mode producers=$p size=$size window=$w rate=$rate ${line#RESULT } broker_cpu_us=$(( (t1 - t0) * 1000000 / hz / n / p ))"
}
trm_run() {
  # Submits go in SubmitBatches messages of W/2 envelopes (two batches in
  # flight); at W=1, one envelope per SubmitStream message.
  local v=$1 mode=$2 p=$3 n=$4 size=$5 w=$6 rate=$7 to=() r
  for r in $(seq 0 $((p - 1))); do
    to+=(--to "bg-r$r@bg" --recipient-pub "keys/bg-r$r.enc.pub")
    [ "$mode" = paced ] && to+=(--consume-token "keys/bg-r$r.token")
    [ "$mode" = paced ] && [ "$v" = verify ] && to+=(--consume-sign-key "keys/bg-r$r.sign.key")
  done
  if [ "$mode" = drain ]; then
    local tokens=()
    for r in $(seq 0 $((p - 1))); do
      tokens+=(--token-file "keys/bg-r$r.token")
      [ "$v" = verify ] && tokens+=(--sign-key "keys/bg-r$r.sign.key")
    done
    "$bin/bench/trm_load" consume --node "127.0.0.1:${trm_port[$v]}" "${tokens[@]}" --expect "$n" \
      --receive-many --pipeline
  else
    "$bin/bench/trm_load" produce --node "127.0.0.1:${trm_port[$v]}" --token-file keys/bg-ngo.token \
      --sign-key keys/bg-ngo.sign.key --from bg-ngo@bg "${to[@]}" --count "$n" --window "$w" \
      --size "$size" --rate "$rate" --batch $(( w / 2 ))
  fi
}
record() {  # record RUN LINE...: appends RESULT lines to the results file
  local run=$1; shift
  echo "$@" | grep '^RESULT' | sed "s/^RESULT /RESULT run=$run /" | tee -a "$results" |
    sed -E 's/^RESULT run=//' >&2 || true
}
# Messages per run: about a second of work for the fastest system.
count() {  # count SIZE W
  local n=20000
  [ "$2" = 1 ] && n=2000
  [ "$1" = 65536 ] && n=$(( n / 8 ))
  echo $n
}

# --- 1. Publish and drain, every cell, every system, runs interleaved.
echo "== publish and drain ($runs runs; $(date -u +%H:%M:%S))" >&2
for run in $(seq 1 "$runs"); do
  for size in $sizes; do
    for w in $windows; do
      for p in $producers; do
        n=$(( $(count "$size" "$w") / p ))
        for sys in $systems; do
          fresh "$sys"
          record "$run" "$(load "$sys" publish "$p" "$n" "$size" "$w")"
          record "$run" "$(load "$sys" drain "$p" "$n" "$size" "$w")"
        done
      done
    done
  done
done

# --- 2. Paced, 4 KiB, window 64, one producer: 50% and 80% of the median
# maximum measured above; about 3 seconds each.
echo "== paced end to end ($(date -u +%H:%M:%S))" >&2
for sys in $systems; do
  max=$(python3 - "$results" "$sys" <<'PY'
import sys, statistics
rows = [dict(kv.split("=", 1) for kv in l.split()[1:]) for l in open(sys.argv[1])]
v = [float(r["msgps"]) for r in rows if r["system"] == sys.argv[2] and r["mode"] == "publish"
     and r["size"] == "4096" and r["window"] == "64" and r["producers"] == "1"]
print(int(statistics.median(v)))
PY
)
  for share in 50 80; do
    rate=$(( max * share / 100 ))
    n=$(( rate * 3 )); [ $n -gt 60000 ] && n=60000
    for run in $(seq 1 "$runs"); do
      fresh "$sys"
      record "$run" "$(load "$sys" paced 1 "$n" 4096 64 "$rate" | sed "s/^RESULT /RESULT share=$share /")"
    done
  done
done

# store_writes V: the node's store write counters (trm_store_written_*,
# summed over the request kinds): "KEYS BYTES".
store_writes() {
  python3 - "${trm_metrics[$1]}" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10).read().decode()
keys = sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith("trm_store_written_keys_total{"))
size = sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith("trm_store_written_bytes_total{"))
print(int(keys), int(size))
PY
}

# --- 3. fsyncs per message: one publish run of 4 KiB at window 64 under
# strace -c (it slows the broker; its throughput is not reported). For
# trm-broker, the RocksDB keys and bytes written per message too (the node's
# metrics), publishing and draining.
echo "== fsyncs and writes per message ($(date -u +%H:%M:%S))" >&2
for sys in $systems; do
  fresh "$sys"; n=10000; pid=$(pid_of "$sys")
  w0=""; [[ $sys = trm-* ]] && w0=$(store_writes "${sys#trm-}")
  strace -qq -c -f -e trace=fsync,fdatasync,sync_file_range,msync -o "$work/strace-$sys" -p "$pid" &
  st=$!; sleep 1
  load "$sys" publish 1 "$n" 4096 64 >/dev/null
  kill -INT $st; wait $st 2>/dev/null || true
  syncs=$(awk '$NF ~ /^(fsync|fdatasync|sync_file_range|msync)$/ {s += $4} END {print s + 0}' "$work/strace-$sys")
  w1=""; [[ $sys = trm-* ]] && w1=$(store_writes "${sys#trm-}")
  load "$sys" drain 1 "$n" 4096 64 >/dev/null
  echo "RESULT run=1 system=$sys mode=fsyncs size=4096 window=64 producers=1 n=$n syncs=$syncs" | tee -a "$results" >&2
  if [ -n "$w0" ]; then
    w2=$(store_writes "${sys#trm-}")
    read -r k0 b0 <<<"$w0"; read -r k1 b1 <<<"$w1"; read -r k2 b2 <<<"$w2"
    for phase in publish drain; do
      if [ $phase = publish ]; then dk=$((k1 - k0)); db=$((b1 - b0)); else dk=$((k2 - k1)); db=$((b2 - b1)); fi
      echo "RESULT run=1 system=$sys mode=writes phase=$phase n=$n keys_per_msg=$(awk -v a=$dk -v n=$n 'BEGIN{printf "%.2f", a/n}') bytes_per_msg=$((db / n))" |
        tee -a "$results" >&2
    done
  fi
done

# --- 4. Two trm-broker nodes end to end (bench/relay.sh: TLS, both verify).
echo "== two nodes end to end ($(date -u +%H:%M:%S))" >&2
cd "$root"
n2=20000; [ $quick = 1 ] && n2=10000
for run in $(seq 1 "$runs"); do
  out=$(bash bench/relay.sh "$n2" 2>&1) || { echo "$out" >&2; exit 1; }
  msgps=$(echo "$out" | sed -nE 's/.*: ([0-9]+) msg\/s end to end.*/\1/p' | head -1)
  lat=$(echo "$out" | sed -nE 's/.*p50 ([0-9.]+) ms, p99 ([0-9.]+) ms, p99.9 ([0-9.]+) ms.*/p50_us=\1 p99_us=\2 p999_us=\3/p')
  bgcpu=$(echo "$out" | sed -nE 's/.*CPU per message: BG ([0-9]+) us, NG ([0-9]+) us.*/broker_cpu_us=\1 ng_cpu_us=\2/p')
  echo "RESULT run=$run system=trm-two-nodes mode=publish size=4096 window=64 producers=1 n=$n2 msgps=$msgps $bgcpu e2e_ms=${lat:-none}" |
    sed 's/e2e_ms=p50_us=/e2e_p50_ms=/; s/ p99_us=/ e2e_p99_ms=/; s/ p999_us=/ e2e_p999_ms=/' | tee -a "$results" >&2
done
cd "$work"

# --- 5. The physical limits of this machine, in the same session.
echo "== physical limits ($(date -u +%H:%M:%S))" >&2
for run in $(seq 1 "$runs"); do
  record "$run" "$("$work/fsyncload" "$work/fsync.dat" 3000 4096)"
  v=$(openssl speed -seconds 2 ed25519 2>/dev/null | awk '/Ed25519/ {print $(NF)}')
  a=$(openssl speed -seconds 2 -evp chacha20-poly1305 -bytes 4096 2>/dev/null | awk '/^ChaCha20-Poly1305/ {sub("k","",$2); print $2 * 1000}')
  # The verification ceiling: the node's Ed25519 verify (libsodium), one
  # core and every core at once, doing nothing else.
  "$bin/bench/crypto_bench" --benchmark_filter='^Ed25519VerifySodium' --benchmark_min_time=1 \
    --benchmark_out="$work/sodium.json" --benchmark_out_format=json >/dev/null
  sodium=$(python3 - "$work/sodium.json" <<'PY'
import json, sys
b = {x["name"].split("/")[0]: x for x in json.load(open(sys.argv[1]))["benchmarks"]}
print(int(b["Ed25519VerifySodium"]["items_per_second"]), int(b["Ed25519VerifySodiumAllCores"]["items_per_second"]))
PY
)
  read -r s1 sall <<<"$sodium"
  echo "RESULT run=$run system=limits mode=crypto ed25519_verify_per_s=$v sodium_verify_per_s=$s1 sodium_verify_all_cores_per_s=$sall chacha20poly1305_bytes_per_s=$a" | tee -a "$results" >&2
done

# --- 6. A node with a deep backlog (bench/backlog.sh), unless --backlog 0.
if [ "$backlog" -gt 0 ]; then
  echo "== backlog of $backlog ($(date -u +%H:%M:%S))" >&2
  cd "$root"
  out=$(bash bench/backlog.sh "$backlog" 20000 3 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$out" | python3 -c '
import re, sys
t = sys.stdin.read()
submit = re.findall(r"submit ratio to empty ([0-9.]+)", t)
drains = re.findall(r"drain round \d+ n=\d+: [0-9]+ msg/s, ratio to empty ([0-9.]+)", t)
restart = re.findall(r"restart after kill -9 ready in ([0-9]+) ms", t)
rss = [int(x) for x in re.findall(r"peak RSS ([0-9]+) MiB", t)]
print(f"RESULT run=1 system=trm-backlog mode=backlog n={sys.argv[1]} submit_ratio={submit[-1]} "
      f"drain_ratio={min(float(d) for d in drains):.2f} restart_ms={restart[-1]} peak_rss_mib={max(rss)}")
' "$backlog" | tee -a "$results" >&2
  cd "$work"
fi

cd "$root"
elapsed=$(( $(date +%s) - started ))
mkdir -p build && cp "$results" build/compare-results.txt  # kept for re-reporting
args=(--results "$results" --elapsed "$elapsed" --runs "$runs")
[ $quick = 1 ] && args+=(--quick)
[ $docs = 1 ] && args+=(--docs docs/benchmarks.md)
python3 bench/compare_report.py "${args[@]}"
