#!/usr/bin/env bash
# Two nodes end to end over mutual TLS: organisation -> BG -> NG ->
# organisation, 4 KiB envelopes, as deployed (signatures verified on both
# nodes, signed acknowledgements, case rules), fsync before every receipt on
# both. Prints:
#   - throughput at window 64 (submit at BG until the consumer at NG has
#     acknowledged all N), and the CPU microseconds per message of each node;
#   - end-to-end latency (first submit at BG -> delivery at NG) p50/p99/p99.9
#     at 50% of that throughput (paced).
# With --peers it first runs ../shared/peers/run-peers.sh for RabbitMQ
# quorum's single-hop figure at W=64, when that script is present.
# With --profile the throughput run is recorded with `perf record` on both
# nodes, and bench/profile_report.py splits each node's CPU per message as
# bench/profile.sh does for one node (--docs: into docs/benchmarks.md).
# usage: bench/relay.sh [--peers] [--profile [--docs]] [N=20000]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
peers=0; profile=0; docs=""; N=20000
for a in "$@"; do
  case "$a" in
    --peers) peers=1 ;;
    --profile) profile=1 ;;
    --docs) docs="$root/docs/benchmarks.md" ;;
    [0-9]*) N=$a ;;
    *) echo "usage: bench/relay.sh [--peers] [--profile [--docs]] [N]" >&2; exit 2 ;;
  esac
done
./scripts/install-deps.sh >/dev/null
if [ $profile = 1 ] && ! command -v perf >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
fi
cmake --preset release >/dev/null
cmake --build --preset release --target trm-broker trmctl trm_load >/dev/null
if [ $peers = 1 ] && [ -x ../shared/peers/run-peers.sh ]; then
  bash ../shared/peers/run-peers.sh "$N" 4096 "64" | grep -E 'quorum.*publish'
fi
BROKER=$root/build/release/server/trm-broker
TRMCTL=$root/build/release/client/trmctl
LOAD=$root/build/release/bench/trm_load
PKI=$root/deploy/pki/make-pki.sh
work=$(mktemp -d)
declare -A pids
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
source "$root/tests/server/federation_lib.sh" >/dev/null
node_config bg "$bg_port" bg
node_config ng "$ng_port" ng
# As deployed: the case rules on (federation_lib.sh turns them off for the
# transport tests); signed acknowledgements are required by default.
for n in bg ng; do
  python3 - "$n.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.pop("_case_rules", None)
c["case_rules"] = {"enforce": True}
json.dump(c, open(sys.argv[1], "w"))
PY
done
start bg; start ng
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tls() { echo --ca pki/ca.crt --cert "pki/org-$1.crt" --key "pki/org-$1.key"; }
run() {  # run N RATE: producer at BG and consumer at NG; prints both lines
  local n=$1 rate=$2
  rm -f producer.log consumer.log
  "$LOAD" consume --node "127.0.0.1:$ng_port" $(tls ng-naptip) --expect "$n" --timeout-s 600 \
    --sign-key keys/ng-naptip.sign.key \
    --log consumer.log >consumer.out 2>&1 &
  local c=$!
  local t0; t0=$(date +%s%N)
  "$LOAD" produce --node "127.0.0.1:$bg_port" $(tls bg-ngo) --sign-key keys/bg-ngo.sign.key \
    --recipient-pub keys/ng-naptip.enc.pub --from bg-ngo@bg --to ng-naptip@ng --count "$n" \
    --window 64 --batch 32 --size 4096 --rate "$rate" --log producer.log >producer.out 2>&1
  wait $c
  elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}
perf_pids=()
if [ $profile = 1 ]; then
  for n in bg ng; do
    perf record -q -F 1999 -p "${pids[$n]}" -o "$n.data" 2>"$n.perf.log" &
    perf_pids+=($!)
  done
  # perf attaches within a moment; wait until both have written a header.
  for _ in $(seq 1 400); do [ -s bg.data ] && [ -s ng.data ] && break; sleep 0.01; done
fi
b0=$(ticks "${pids[bg]}"); n0=$(ticks "${pids[ng]}")
run "$N" 0
b1=$(ticks "${pids[bg]}"); n1=$(ticks "${pids[ng]}")
for p in "${perf_pids[@]}"; do kill -INT "$p"; wait "$p" || true; done
# Sealing happens before the first submit; time from the first "sent".
first_sent=$(awk '/^sent /{print $3; exit}' producer.log)
last_delivered=$(awk '/^delivered /{print $4}' consumer.log | sort -n | tail -1)
rate=$(python3 -c "print(round($N / (($last_delivered - $first_sent) / 1e6)))")
echo "trm-broker two nodes, TLS, 4 KiB, W=64, n=$N: $rate msg/s end to end; $(cat producer.out | sed 's/^produce: //')"
bg_us=$(( (b1 - b0) * 1000000 / hz / N )); ng_us=$(( (n1 - n0) * 1000000 / hz / N ))
echo "  CPU per message: BG $bg_us us, NG $ng_us us"
if [ $profile = 1 ]; then
  for n in bg ng; do
    perf report -i "$n.data" --no-children --sort dso,sym --stdio -q --percent-limit 0 \
      2>/dev/null >"$n.txt"
  done
  # In the layout profile_report.py reads: "= RATE msg/s", "broker CPU X us/msg".
  echo "BG, the sending node: end to end = $rate msg/s, broker CPU $bg_us us/msg" >bg.line
  echo "NG, the receiving node: end to end = $rate msg/s, broker CPU $ng_us us/msg" >ng.line
  python3 "$root/bench/profile_report.py" --n "$N" --marker bench/relay.sh \
    --title "Two nodes as deployed (BG -> NG over mutual TLS; signatures verified on both, signed acknowledgements, case rules)" \
    --phase "BG=bg.txt=bg.line" --phase "NG=ng.txt=ng.line" ${docs:+--docs "$docs"}
fi
echo "  clients: $(sed -nE 's/.*client CPU ([0-9]+) us\/msg.*/producer \1 us\/msg (sealing and signing included)/p' producer.out), $(sed -nE 's/.*client CPU ([0-9]+) us\/msg.*/consumer \1 us\/msg (signing acknowledgements)/p' consumer.out)"
half=$(( rate / 2 ))
M=$(( half * 10 )); [ $M -gt "$N" ] && M=$N
run "$M" "$half"
python3 - "$M" "$half" <<'PY'
import sys
n, rate = int(sys.argv[1]), int(sys.argv[2])
sent = {}
for l in open("producer.log"):
    p = l.split()
    if p[0] == "sent": sent[p[1]] = int(p[2])
lat = sorted(int(l.split()[3]) - sent[l.split()[1]] for l in open("consumer.log")
             if l.startswith("delivered ") and l.split()[2] == "1")
q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] / 1000
print(f"  end-to-end latency at 50% ({rate} msg/s, n={n}): p50 {q(0.5):.1f} ms, "
      f"p99 {q(0.99):.1f} ms, p99.9 {q(0.999):.1f} ms")
PY
for n in bg ng; do kill -TERM "${pids[$n]}"; wait "${pids[$n]}"; unset "pids[$n]"; done
