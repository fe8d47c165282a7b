# A scenario with a restart policy: an injected crash, the supervisor's
# restart, its record.
source "$(dirname "$0")/lib.bash"
make_host
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"r","options":{"ID":"uvm-r","BootFilesPath":"$WORK/boot"},"restart_policy":{"policy":"on-failure","max_restarts":1,"backoff_ms":10}}
{"op":"start","vm":"r"}
{"op":"sim_crash","vm":"r"}
{"op":"sleep","ms":1000}
{"op":"info","vm":"r"}
{"op":"exit_error","vm":"r"}
{"op":"sim_crash","vm":"r"}
{"op":"sleep","ms":1000}
{"op":"info","vm":"r"}
{"op":"exits"}
{"op":"close","vm":"r"}
{"op":"create_lcow","vm":"p","options":{"BootFilesPath":"$WORK/boot"},"restart_policy":{"policy":"sometimes"}}
JSONL
run_scenario "$WORK/s.jsonl"
expect 1 'r["ok"]'
expect 5 'r["result"]["state"] == "running" and r["result"]["restarts"] == 1'
expect 6 'r["error"] == "container not exited"'
expect 9 'r["result"]["state"] == "exited" and r["result"]["restarts"] == 1'
expect 10 '[e["action"] for e in r["result"]] == ["restart", "gave-up"]'
expect 11 'r["ok"]'
expect 12 'r["error"] == "restart policy must be \"never\" or \"on-failure\""'
check_expectations
echo "restart scenario: ok"
