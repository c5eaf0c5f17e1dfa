#!/usr/bin/env bash
# A full disk (issue 15 section 4), on a real small filesystem: a 64 MiB
# tmpfs holds BG's data directory. The node fills it through submissions
# until its disk-free alarm refuses them (STORE_DISK_LOW) without crashing;
# receive and acknowledge go on; when space is freed, writes resume without a
# restart; filled again, the node is killed -9 and restarts on the nearly
# full disk by releasing its reserve; every receipted message is delivered.
# Needs root (mount); exits 77 (skipped) where tmpfs cannot be mounted.
set -u
source "$(dirname "$0")/federation_test_lib.sh" "$1" "$2"
small=$work/small
mkdir -p "$small"
if ! mount -t tmpfs -o size=64m tmpfs "$small" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (needs root)"; exit 77
fi
unmount() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; sleep 0.2; umount -l "$small"; cleanup; }
trap unmount EXIT
cat >bg.json <<JSON
{"node_id": "bg", "listen": "127.0.0.1:$bg_port", "data_dir": "$small/data-bg",
 "node_signing_key": "keys/bg-node.sign.key", "case_rules": {"enforce": false},
 "directory": "directory.signed", "authority_public_key": "keys/authority.sign.pub",
 "tls": {"ca": "pki/ca.crt", "cert": "pki/node-bg.crt", "key": "pki/node-bg.key"},
 "disk": {"min_free_bytes": 16777216, "reserve_bytes": 8388608, "max_wal_bytes": 4194304}}
JSON
start bg
as() { local org=$1; shift; "$TRMCTL" "$@" --node "127.0.0.1:$bg_port" --ca pki/ca.crt \
  --cert pki/org-$org.crt --key pki/org-$org.key; }
payload_file payload information-request --pad 900000
send() {  # one ~900 KB message bg-ngo -> bg-nrm; its id into `accepted`
  as bg-ngo send --type information-request --case BG-D-1 --from bg-ngo@bg --to bg-nrm@bg \
    --sign-key keys/bg-ngo.sign.key --recipient-pub keys/bg-nrm.enc.pub --in payload >out 2>&1
  local rc=$?
  sed -nE 's/^sent [A-Z_]+ ([0-9a-f]{32}).*/\1/p' out >>accepted
  return $rc
}
fill() {  # send until refused; at most $1 messages
  for _ in $(seq 1 "$1"); do send || return 0; done
  return 1
}
# The node makes its reserve once it is serving.
for _ in $(seq 1 "$(polls 100)"); do
  [ "$(stat -c %s "$small/data-bg/trm-disk-reserve" 2>/dev/null)" = 8388608 ] && break; sleep 0.1
done
check "the node makes its 8 MiB disk reserve" 8388608 "$(stat -c %s "$small/data-bg/trm-disk-reserve" 2>/dev/null)"
head -c 16777216 /dev/zero >"$small/filler"
: >accepted
fill 80; check "filling the disk through the node ends in a refusal" 0 $?
contains "the refusal is the disk-free alarm" STORE_DISK_LOW out
contains "the refusal says what to do" "until its operator frees space" out
first=$(wc -l <accepted)
[ "$first" -ge 5 ]; check "messages were accepted before the refusal ($first)" 0 $?
kill -0 "${pids[bg]}"; check "the node did not crash" 0 $?
contains "the log says why" "refusing new submissions and relay intake" bg.log
as bg-nrm node status >st 2>&1; check "node status" 0 $?
contains "node status shows the alarm" "LOW: refusing new messages" st
# Reading goes on while the disk is low.
mkdir -p "$work/inbox"
as bg-nrm receive --recipient-key keys/bg-nrm.enc.key --sign-key keys/bg-nrm.sign.key \
  --keys-dir keys --out-dir "$work/inbox" --max 2 >out 2>&1
check "receive and acknowledge while the disk is low" 0 $?
check "two acknowledged" 2 "$(grep -c acknowledged out)"
grep -oE '[0-9a-f]{32}' out | sort -u >delivered
# The operator frees space: writes resume, no restart.
rm -f "$small/filler"
resumed=1
for _ in $(seq 1 "$(polls 50)"); do send && { resumed=0; break; }; sleep 0.1; done
check "writes resume once space is freed, without a restart" 0 $resumed
contains "the log says so" "again: accepting submissions" bg.log
fill 80; check "filled again" 0 $?
contains "refused again" STORE_DISK_LOW out
# Killed on the nearly full disk, the node restarts: its reserve makes room
# to replay the write-ahead log.
kill -9 "${pids[bg]}"; wait "${pids[bg]}" 2>/dev/null; unset "pids[bg]"
# RocksDB may have freed space since the refusal (a flush drops its log):
# leave the disk nearly full (6 MiB, under min_free_bytes) for the restart,
# so that the node must release its reserve. (Found flaky in CI: the
# restart sometimes found enough space and needed no reserve.)
avail=$(( $(stat -f -c '%a*%S' "$small") ))
if [ "$avail" -gt $((6 << 20)) ]; then
  head -c $((avail - (6 << 20))) /dev/zero >"$small/filler2"
fi
start bg
contains "the reserve was released to restart" "released the disk reserve" bg.log
# A few at a time: each call opens and acknowledges ~900 KB messages, which
# is slow under the sanitizers.
received=1
for _ in $(seq 1 40); do
  as bg-nrm receive --recipient-key keys/bg-nrm.enc.key --sign-key keys/bg-nrm.sign.key \
    --keys-dir keys --out-dir "$work/inbox" --max 4 >out 2>&1 || { cat out; break; }
  grep -oE '[0-9a-f]{32}' out | sort -u >>delivered
  grep -q "no messages" out && { received=0; break; }
done
check "receive after the restart, until the mailbox is empty" 0 $received
missing=$(comm -23 <(sort -u accepted) <(sort -u delivered) | wc -l)
check "every receipted message ($(sort -u accepted | wc -l)) was delivered" 0 "$missing"
exit $fail
