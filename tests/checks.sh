# Assertions shared by the shell tests. Source it; a failed check sets
# fail=1 (the test exits with $fail at the end) and shows what was seen.
fail=0
# check NAME EXPECTED_RC ACTUAL_RC
check() {
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1: exit $3, expected $2"; cat out 2>/dev/null; fail=1
  else
    echo "ok: $1"
  fi
}
# contains NAME NEEDLE FILE
contains() {
  if grep -q -- "$2" "$3"; then
    echo "ok: $1"
  else
    echo "FAIL: $1: '$2' not in:"; cat "$3"; fail=1
  fi
}
