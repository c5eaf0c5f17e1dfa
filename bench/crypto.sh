#!/usr/bin/env bash
# Builds the release preset and runs the crypto benchmark: envelope
# seal+sign and verify+open against the raw OpenSSL primitives, in one run,
# 3 repetitions (medians). The ratio table is printed and written to
# build/release/crypto-table.md. Extra arguments go to Google Benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target crypto_bench
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(openssl version)"
./build/release/bench/crypto_bench --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true \
  --table_out=build/release/crypto-table.md "$@"
