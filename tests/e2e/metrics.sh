# uvmd --metrics-listen: /metrics in the Prometheus text format, scraped
# with curl before and after a scenario run through `uvmctl --node`; the
# calls by op, the VMs by state and the latency histogram move. A
# non-loopback address without authentication is refused; with an auth
# file, /metrics asks for the credentials.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/remote_lib.bash"
command -v curl > /dev/null || { echo "SKIP: curl is not installed"; exit 77; }
make_host

# value NAME_WITH_LABELS FILE: the sample's value, 0 when absent.
value() {
  awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$2"
}

# Refused: a non-loopback address with neither auth nor the insecure flag.
if "$UVMD" --listen 127.0.0.1:0 --insecure-plaintext --metrics-listen 0.0.0.0:0 \
  > /dev/null 2> "$WORK/refused.err"; then
  fail "uvmd served metrics on 0.0.0.0 without authentication"
fi
grep -q "is not a loopback address: give --metrics-auth-file" "$WORK/refused.err" ||
  { cat "$WORK/refused.err" >&2; fail "no clear error for an unauthenticated non-loopback address"; }

start_uvmd m --listen 127.0.0.1:0 --insecure-plaintext --metrics-listen 127.0.0.1:0
for i in $(seq 1 100); do
  grep -q '^metrics ' "$WORK/m.out" && break
  sleep 0.05
done
METRICS=$(sed -n 's/^metrics //p' "$WORK/m.out")
[ -n "$METRICS" ] || fail "uvmd printed no metrics address"

curl -sf "http://$METRICS/metrics" > "$WORK/before.txt" || fail "scrape before the scenario"
grep -q '^# TYPE uvm_calls_total counter' "$WORK/before.txt" || fail "no uvm_calls_total family"
[ "$(value 'uvm_vms{backend="sim",state="running"}' "$WORK/before.txt")" = 0 ] ||
  fail "VMs running before any was created"

# Two VMs: one closed, one left running with a disk.
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"metrics-a","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"a"}
{"op":"add_scsi","vm":"a","host_path":"/disks/a.vhdx","uvm_path":"/run/mounts/a"}
{"op":"add_scsi","vm":"a","host_path":"/disks/b.vhdx","uvm_path":"/run/mounts/b"}
{"op":"remove_scsi","vm":"a","host_path":"/disks/a.vhdx"}
{"op":"remove_scsi","vm":"a","host_path":"/disks/never-added.vhdx"}
{"op":"close","vm":"a"}
{"op":"create_lcow","vm":"b","options":{"ID":"metrics-b","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"b"}
{"op":"add_scsi","vm":"b","host_path":"/disks/c.vhdx","uvm_path":"/run/mounts/c"}
JSONL
# --keep-vms: "b" still runs on the node when the client is gone.
"$UVMCTL" --node "$ADDR_m" --insecure-plaintext run --keep-vms "$WORK/s.jsonl" > "$WORK/s.out" ||
  fail "uvmctl --node run exited $?"
curl -sf "http://$METRICS/metrics" > "$WORK/after.txt" || fail "scrape after the scenario"

check() { # NAME EXPECTED
  local got
  got=$(value "$1" "$WORK/after.txt")
  [ "$got" = "$2" ] || { grep '^uvm_' "$WORK/after.txt" >&2; fail "$1 is $got, expected $2"; }
}
check 'uvm_vms{backend="sim",state="running"}' 1
check 'uvm_vms{backend="sim",state="closed"}' 0
check 'uvm_calls_total{op="close",result="ok"}' 1
check 'uvm_calls_total{op="create",result="ok"}' 2
check 'uvm_calls_total{op="start",result="ok"}' 2
check 'uvm_calls_total{op="add_scsi",result="ok"}' 3
check 'uvm_calls_total{op="remove_scsi",result="ok"}' 1
check 'uvm_calls_total{op="remove_scsi",result="error"}' 1
check 'uvm_call_duration_seconds_count{op="add_scsi"}' 3
check 'uvm_call_duration_seconds_bucket{op="add_scsi",le="+Inf"}' 3
check 'uvm_call_duration_seconds_count{op="remove_scsi"}' 2
check 'uvm_remote_clients' 0
grep -q '^uvm_vm_mailbox_depth_max ' "$WORK/after.txt" || fail "no mailbox depth sampled"

# With an auth file, on any address: no credentials, no metrics.
printf 'prom:s3cret\n' > "$WORK/auth"
start_uvmd a --listen 127.0.0.1:0 --insecure-plaintext --metrics-listen 0.0.0.0:0 \
  --metrics-auth-file "$WORK/auth"
for i in $(seq 1 100); do
  grep -q '^metrics ' "$WORK/a.out" && break
  sleep 0.05
done
PORT=$(sed -n 's/^metrics .*://p' "$WORK/a.out")
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics")
[ "$code" = 401 ] || fail "/metrics without credentials answered $code, expected 401"
code=$(curl -s -o /dev/null -w '%{http_code}' -u prom:wrong "http://127.0.0.1:$PORT/metrics")
[ "$code" = 401 ] || fail "/metrics with a wrong password answered $code, expected 401"
curl -sf -u prom:s3cret "http://127.0.0.1:$PORT/metrics" | grep -q '^uvm_calls_total\|^# TYPE uvm_vms' ||
  fail "/metrics refused the right credentials"
echo ok
