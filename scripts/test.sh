#!/usr/bin/env bash
# Installs what is needed, then builds and runs the whole test suite:
#   1. clang-format check
#   2. RelWithDebInfo build (gcc) + ctest: unit, vector and CLI tests; then
#      the demo (./scripts/demo.sh --once)
#   3. ASan+UBSan build (gcc) + the same ctest
#   4. libFuzzer build (clang, ASan+UBSan) + a bounded fuzz run (>= 60 s)
# Environment: TRM_FUZZ_SECONDS (default 60), TRM_SKIP_ASAN=1, TRM_SKIP_FUZZ=1,
# TRM_TEST_JOBS (tests run at once, default 1), TRM_ASAN_TEST_JOBS (default: the same).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$(date +%s)
step() { printf '\n=== %s (%ds) ===\n' "$1" $(( $(date +%s) - start )); }

step "dependencies"
./scripts/install-deps.sh

step "format"
./scripts/check-format.sh

run_preset() {
  local preset=$1; shift
  step "build: $preset"
  cmake --preset "$preset" "$@" >/dev/null
  cmake --build --preset "$preset"
  step "test: $preset"
  # One at a time unless TRM_TEST_JOBS says otherwise: two at a time, one
  # CI run failed way_back_orders and one under ASan saw a LeakSanitizer
  # report at a trmctl exit (docs/development.md); both are open.
  local jobs=${TRM_TEST_JOBS:-1}
  [ "$preset" = asan ] && jobs=${TRM_ASAN_TEST_JOBS:-$jobs}
  ctest --preset "$preset" --timeout 900 -j "$jobs"
}

run_preset default
step "demo: ./scripts/demo.sh --once (output in build/demo.log)"
if ! ./scripts/demo.sh --once >build/demo.log 2>&1; then
  tail -n 60 build/demo.log
  echo "test.sh: the demo failed; build/demo.log has all of it" >&2
  exit 1
fi
if [ "${TRM_SKIP_ASAN:-0}" != 1 ]; then
  TRM_WAIT_SCALE=10 \
    LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0" run_preset asan
fi
if [ "${TRM_SKIP_FUZZ:-0}" != 1 ]; then
  run_preset fuzz -DTRM_FUZZ_SECONDS="${TRM_FUZZ_SECONDS:-60}"
fi
step "all tests passed"
