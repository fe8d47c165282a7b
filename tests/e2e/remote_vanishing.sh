# Clients that vanish mid-call (kill -9): ten clients, each killed while
# a process it started reads its stdin across the network and while it
# follows the event bus. Then every such process has seen its stdin
# closed and ended within seconds (not at the node's 30 s attach timeout,
# even for a client killed before its side of the stdio attached),
# /metrics counts no remote client, the node's threads and descriptors
# are where they were, and it still serves the next client.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/remote_lib.bash"
command -v curl > /dev/null || { echo "SKIP: curl is not installed"; exit 77; }
make_host
start_uvmd n --listen 127.0.0.1:0 --insecure-plaintext --metrics-listen 127.0.0.1:0
wait_log "$WORK/n.out" '^metrics ' || fail "no metrics address"
METRICS=$(sed -n 's/^metrics //p' "$WORK/n.out")
CTL=("$UVMCTL" --node "$ADDR_n" --insecure-plaintext)
threads() { ls "/proc/$PID_n/task" | wc -l; }
fds() { ls "/proc/$PID_n/fd" | wc -l; }
clients() {
  curl -sf "http://$METRICS/metrics" | awk '$1 == "uvm_remote_clients" { v = $2 } END { print v + 0 }'
}
MARK="vanish-$$"

cat > "$WORK/vm.jsonl" <<JSONL
{"op":"create_lcow","vm":"v","options":{"ID":"$MARK","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"v"}
JSONL
"${CTL[@]}" run --keep-vms "$WORK/vm.jsonl" > "$WORK/vm.out" || fail "run --keep-vms: $(cat "$WORK/vm.out")"
# A clean client first: what the node makes once is in the baseline.
[ "$(echo warm | "${CTL[@]}" exec -i "$MARK" -- cat)" = warm ] || fail "exec -i"
sleep 0.5
threads0=$(threads)
fds0=$(fds)

for i in $(seq 1 10); do
  # stdin stays open (sleep), so the process runs until the node closes it.
  sleep 60 | "${CTL[@]}" exec -i "$MARK" -- sh -c "cat > /dev/null; : $MARK-$i" > /dev/null 2>&1 &
  run=$!
  "${CTL[@]}" events > /dev/null 2>&1 &
  events=$!
  for _ in $(seq 1 100); do
    pgrep -f ": $MARK-$i" > /dev/null && break
    sleep 0.05
  done
  pgrep -f ": $MARK-$i" > /dev/null || fail "process $i did not start"
  kill -9 "$run" "$events"
  pkill -f "^sleep 60$" 2> /dev/null || true
  wait "$run" "$events" 2> /dev/null || true
done

# The node notices each lost client (heartbeats 100 ms, peer timeout
# 600 ms), closes the stdio it relayed, gives up the stdio a client had
# yet to attach to and drops its subscriptions.
for _ in $(seq 1 150); do
  [ "$(clients)" = 0 ] && ! pgrep -f ": $MARK-" > /dev/null && break
  sleep 0.1
done
[ "$(clients)" = 0 ] || fail "uvm_remote_clients is $(clients) after every client vanished"
! pgrep -fa ": $MARK-" || fail "processes still run after their clients vanished"
for _ in $(seq 1 50); do
  [ "$(threads)" -le "$threads0" ] && break
  sleep 0.1
done
[ "$(threads)" -le "$threads0" ] || fail "threads: $threads0 before, $(threads) after"
for _ in $(seq 1 50); do
  [ "$(fds)" -le "$fds0" ] && break
  sleep 0.1
done
[ "$(fds)" -le "$fds0" ] || fail "descriptors: $fds0 before, $(fds) after: $(ls -l "/proc/$PID_n/fd")"
[ "$(echo again | "${CTL[@]}" exec -i "$MARK" -- cat)" = again ] || fail "the node no longer serves a client"
kill -TERM "$PID_n"
wait "$PID_n" || fail "uvmd exited $? on SIGTERM"
echo "10 clients vanished mid-call: their processes ended, no client counted, threads $threads0, fds $fds0"
