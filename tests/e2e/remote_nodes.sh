# Several nodes: `uvmctl --node a --node b --node c run` places each new VM
# on the node with the fewest VMs (the first of equals) unless its line's
# "node" picks one, and `events` follows all the nodes' buses on one stream.
# The events client leaves (--count) while the run goes on: its TLS
# connections closing must not drop the run's (engine/tls_guard.hpp).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/remote_lib.bash"
make_pki
make_host
for n in a b c; do
  # shellcheck disable=SC2086
  start_uvmd "$n" --listen 127.0.0.1:0 $NODE_TLS
done
# shellcheck disable=SC2206
CTL=("$UVMCTL" --node "$ADDR_a" --node "$ADDR_b" --node "$ADDR_c" $CLIENT_TLS)

"${CTL[@]}" events --count 6 > "$WORK/events.jsonl" &
events=$!
for i in $(seq 1 100); do
  grep -q following "$WORK/events.jsonl" 2> /dev/null && break
  sleep 0.05
done
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"v1","options":{"ID":"v1","BootFilesPath":"$WORK/boot"}}
{"op":"create_lcow","vm":"v2","options":{"ID":"v2","BootFilesPath":"$WORK/boot"}}
{"op":"create_lcow","vm":"v3","options":{"ID":"v3","BootFilesPath":"$WORK/boot"}}
{"op":"create_lcow","vm":"v4","options":{"ID":"v4","BootFilesPath":"$WORK/boot"}}
{"op":"create_lcow","vm":"v5","node":"$ADDR_c","options":{"ID":"v5","BootFilesPath":"$WORK/boot"}}
{"op":"create_lcow","vm":"v6","node":1,"options":{"ID":"v6","BootFilesPath":"$WORK/boot"}}
{"op":"create_lcow","vm":"v7","node":"nowhere:1","options":{"ID":"v7","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"v5"}
{"op":"sim_crash","vm":"v5"}
{"op":"sleep","ms":100}
{"op":"exit_error","vm":"v5"}
{"op":"exits"}
JSONL
OUT="$WORK/out.jsonl"
"${CTL[@]}" run --keep-vms "$WORK/s.jsonl" > "$OUT" || fail "run on three nodes"
expect 7 "not r['ok'] and r['error'] == '\"node\" names no node of this run: \"nowhere:1\"'"
expect 11 "not r['ok'] and r['error'].endswith('exited unexpectedly.')"
expect 12 "r['ok'] and [e['id'] for e in r['result']] == ['v5']"
check_expectations
"${CTL[@]}" list --json > "$WORK/list.json" || fail "list"
"$PY" - "$WORK/list.json" "$ADDR_a" "$ADDR_b" "$ADDR_c" <<'PY' || fail "placement: $(cat "$WORK/list.json")"
import json, sys
a, b, c = sys.argv[2:5]
placed = {v["id"]: v["node"] for v in json.load(open(sys.argv[1]))}
assert placed == {"v1": a, "v2": b, "v3": c, "v4": a, "v5": c, "v6": b}, placed
PY
wait $events || fail "events exited $?"
"$PY" - "$WORK/events.jsonl" "$ADDR_a" "$ADDR_b" "$ADDR_c" <<'PY' || fail "events: $(cat "$WORK/events.jsonl")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0] == {"following": sys.argv[2:5]}, lines[0]
created = {(e["node"], e["vm"]) for e in lines[1:] if e["event"] == "created"}
assert {n for n, _ in created} == set(sys.argv[2:5]), created
assert len(lines) == 7, lines
PY
# The node's guest and backend are its uvmd's: asking for others is an error.
for flags in "run --guest exec:gcs" "run --backend qemu"; do
  # shellcheck disable=SC2086
  if "${CTL[@]}" $flags "$WORK/s.jsonl" > /dev/null 2> "$WORK/flag.err"; then
    fail "uvmctl --node $flags was accepted"
  fi
  grep -q "a node's are set by its uvmd" "$WORK/flag.err" || fail "$flags: $(cat "$WORK/flag.err")"
done
for n in a b c; do
  pid_var="PID_$n"
  kill -TERM "${!pid_var}"
  wait "${!pid_var}" || fail "uvmd $n exited $? on SIGTERM"
done
