#!/usr/bin/env bash
# uvmd's bounds on what clients and guests may ask of it, set by its flags:
# with --vm-call-limit 3, eight SCSI adds at once on one VM (the simulated
# HCS holding each attach 3 s) give three mounts and five immediate
# "busy" refusals naming the limit; with --guest-log-rate 1 and
# --guest-log-burst 1, a guest that logs more than that is cut, with a
# warning naming its VM and the count of what was cut. An out-of-range
# value is refused at start.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/remote_lib.bash"
PROBE="$(dirname "$UVMCTL")/remote_probe"
[ -x "$PROBE" ] || fail "no remote_probe next to $UVMCTL"
make_host

! "$UVMD" --listen 127.0.0.1:0 --insecure-plaintext --vm-call-limit 0 > /dev/null 2> "$WORK/zero.err" ||
  fail "--vm-call-limit 0 was accepted"
grep -q -- '--vm-call-limit' "$WORK/zero.err" || fail "the refusal does not name the flag: $(cat "$WORK/zero.err")"

start_uvmd n --listen 127.0.0.1:0 --insecure-plaintext --log-level debug \
  --vm-call-limit 3 --guest-log-rate 1 --guest-log-burst 1
PROBE_BOOT="$WORK/boot" timeout 60 "$PROBE" busy "$ADDR_n" - - - 8 3000 > "$WORK/busy.json" 2> "$WORK/busy.err" ||
  fail "probe exited $?: $(cat "$WORK/busy.err")"
"$PY" - "$WORK/busy.json" <<'PY' || fail "busy: $(cat "$WORK/busy.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] == 3 and r["busy"] == 5 and r["other"] == [], r
assert r["first_busy"] == "utility VM busy is busy: cannot add a SCSI disk, 3 calls outstanding (limit 3)", r
PY

{
  echo '{"op":"create_lcow","vm":"a","options":{"ID":"chatty","BootFilesPath":"'"$WORK"'/boot"}}'
  echo '{"op":"start","vm":"a"}'
  for _ in 1 2 3 4 5; do echo '{"op":"dump_stacks","vm":"a"}'; done
  echo '{"op":"close","vm":"a"}'
} > "$WORK/log.jsonl"
"$UVMCTL" --node "$ADDR_n" --insecure-plaintext run "$WORK/log.jsonl" > "$WORK/log.out" 2> "$WORK/log.err" ||
  fail "scenario exited $?: $(cat "$WORK/log.err")"
wait_log "$WORK/n.log" 'gcs log rate limit reached.*uvm-id=chatty' ||
  fail "no rate-limit warning for the guest: $(grep -c 'gcs' "$WORK/n.log") gcs lines"
wait_log "$WORK/n.log" 'gcs log entries dropped.*uvm-id=chatty' || fail "no count of the entries cut"
kill -TERM "$PID_n"
wait "$PID_n" || fail "uvmd exited $? on SIGTERM"
echo "--vm-call-limit 3: 3 mounts, 5 busy; --guest-log-rate 1: the guest's flood cut, warned and counted"
