#!/usr/bin/env bash
# Backup and restore of a node (mutual TLS, BG): messages are sent and some
# acknowledged; `trmctl admin backup` runs while more are being submitted;
# the data directory is destroyed; `trm-broker --restore` brings the backup
# back. Every message acknowledged before the backup is there, acknowledged;
# the audit log verifies and holds at least the tree head the backup named.
# Also: only the coordinator may back up, a backup never overwrites, and a
# restore never overwrites a data directory.
set -u
source "$(dirname "$0")/federation_test_lib.sh" "$1" "$2"
node_config bg "$bg_port" bg
start bg
as() { local org=$1; shift; "$TRMCTL" "$@" --node "127.0.0.1:$bg_port" --ca pki/ca.crt \
  --cert pki/org-$org.crt --key pki/org-$org.key; }
send() {  # send N: an information request bg-ngo -> bg-nrm; prints its id
  "$TRMCTL" case payload --type information-request --text "question: \"payload $1\"" --out p$1 >/dev/null
  as bg-ngo send --type information-request --case BG-B-$1 --from bg-ngo@bg --to bg-nrm@bg \
    --sign-key keys/bg-ngo.sign.key --recipient-pub keys/bg-nrm.enc.pub --in p$1 2>&1 |
    sed -nE 's/^sent [A-Z_]+ ([0-9a-f]{32}).*/\1/p'
}
for i in $(seq 1 20); do send $i >>ids; done
check "20 sent" 20 "$(wc -l <ids)"
mkdir -p inbox
as bg-nrm receive --recipient-key keys/bg-nrm.enc.key --sign-key keys/bg-nrm.sign.key \
  --keys-dir keys --out-dir inbox --max 12 >out 2>&1
check "12 acknowledged" 12 "$(grep -c acknowledged out)"
grep -oE '[0-9a-f]{32}' out | sort -u >acked
# Load while the backup runs.
( for i in $(seq 21 80); do send $i >>later; done ) &
load=$!
# The load is under way: its first message was accepted.
for _ in $(seq 1 "$(polls 200)"); do [ -s later ] && break; sleep 0.05; done
as bg-ngo admin backup --dir "$work/backup" >out 2>&1; check "only the coordinator backs up" 1 $?
contains "coordinator rule" NOT_COORDINATOR out
as bg-nrm admin backup --dir "$work/backup" >backup.out 2>&1; check "backup under load" 0 $?
cat backup.out
size=$(sed -nE 's/.*first ([0-9]+) entries.*/\1/p' backup.out)
[ -n "$size" ] && [ "$size" -gt 20 ]; check "backup names its tree head" 0 $?
as bg-nrm admin backup --dir "$work/backup" >out 2>&1; check "never overwrites a backup" 1 $?
contains "exists" BACKUP_DIR_EXISTS out
as bg-nrm admin backup --dir "$work/data-bg/inside" >out 2>&1
check "a backup inside the live data directory is refused" 1 $?
contains "inside reason" "is inside the node's data directory" out
wait $load
# Disaster: the node dies and its data is gone.
kill -9 "${pids[bg]}"; wait "${pids[bg]}" 2>/dev/null; unset "pids[bg]"
mkdir -p keep && mv data-bg keep/
mkdir data-bg && touch data-bg/stray
"$BROKER" --config bg.json --restore "$work/backup" >out 2>&1; check "restore refuses a used directory" 1 $?
contains "not empty" RESTORE_TARGET_NOT_EMPTY out
rm -rf data-bg
"$BROKER" --config bg.json --restore "$work/nothing" >out 2>&1; check "restore needs a backup" 1 $?
contains "no backup" BACKUP_NOT_FOUND out
"$BROKER" --config bg.json --restore "$work/backup" >out 2>&1; check "restore" 0 $?
contains "restored" "verified against its tree head" out
"$BROKER" --config bg.json --verify-audit >out 2>&1; check "restored audit log verifies" 0 $?
restored=$(sed -nE 's/.*audit log of ([0-9]+) entries verified.*/\1/p' out)
[ "${restored:-0}" -ge "$size" ]; check "the log holds the backed-up tree head ($restored >= $size)" 0 $?
start bg
missing=0
while read -r id; do
  as bg-ngo status "$id" >st 2>&1
  grep -q ": ACKNOWLEDGED" st || { missing=$((missing + 1)); cat st; }
done <acked
check "every message acknowledged before the backup is there, acknowledged" 0 "$missing"
unacked=$(comm -23 <(sort ids) acked | head -1)
as bg-ngo status "$unacked" >st 2>&1
contains "a queued message is still queued" ": ACCEPTED" st
as bg-nrm receive --recipient-key keys/bg-nrm.enc.key --sign-key keys/bg-nrm.sign.key \
  --keys-dir keys --out-dir inbox --max 200 >out 2>&1
check "the restored node delivers" 0 $?
exit $fail
