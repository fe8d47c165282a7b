# Containers and processes through the scenario runner and `uvmctl exec`:
# real processes in the in-process guest, their output, stdin and exit
# codes; a container's init exit as exactly one Notify(Container) frame
# carrying the Create's ActivityId; signals, waits, capabilities, stacks
# and the guest's own errors; the sandbox and the unconfined option.
source "$(dirname "$0")/lib.bash"
make_host
ACT=11111111-2222-3333-4444-555555555555
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"uvm-p","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"a"}
{"op":"create_process","vm":"a","args":["sh","-c","echo out; echo err >&2; exit 7"]}
{"op":"create_process","vm":"a","args":["cat"],"stdin":"one\ntwo\n"}
{"op":"create_process","vm":"a","command_line":"sh -c 'echo \$GREETING from \$(pwd)'","environment":{"GREETING":"hello"},"working_directory":"/tmp"}
{"op":"create_container","vm":"a","id":"c1","args":["sh","-c","echo init; exit 3"],"activity_id":"$ACT"}
{"op":"start_container","vm":"a","id":"c1"}
{"op":"create_process","vm":"a","container_id":"c1","init":true}
{"op":"wait_container","vm":"a","id":"c1"}
{"op":"create_container","vm":"a","id":"c2","args":["sleep","30"]}
{"op":"start_container","vm":"a","id":"c2"}
{"op":"create_process","vm":"a","container_id":"c2","init":true,"detach":true,"name":"init2"}
{"op":"create_process","vm":"a","container_id":"c2","args":["sleep","30"],"detach":true,"name":"extra"}
{"op":"signal_process","vm":"a","process":"extra","signal":15}
{"op":"wait_process","vm":"a","process":"extra"}
{"op":"terminate_container","vm":"a","id":"c2"}
{"op":"wait_process","vm":"a","process":"init2"}
{"op":"wait_container","vm":"a","id":"c2"}
{"op":"capabilities","vm":"a"}
{"op":"signal_process_supported","vm":"a"}
{"op":"delete_container_state_supported","vm":"a"}
{"op":"dump_stacks","vm":"a"}
{"op":"delete_container_state","vm":"a","cid":"c1"}
{"op":"delete_container_state","vm":"a","cid":"c1"}
{"op":"create_process","vm":"a","args":["/no/such/program"]}
{"op":"create_process","vm":"a"}
{"op":"create_container","vm":"a","id":"c3","settings":{"SchemaVersion":{"Major":1,"Minor":0}}}
{"op":"wait_process","vm":"a","process":"nobody"}
{"op":"create_process","vm":"a","container_id":"c9","args":["true"]}
{"op":"close","vm":"a"}
JSONL
run_scenario "$WORK/s.jsonl" --bridge-log "$WORK/bridge.jsonl"
expect 3 'r["ok"] and r["result"]["stdout"] == "out\n" and r["result"]["stderr"] == "err\n" and r["result"]["exit_code"] == 7'
expect 4 'r["ok"] and r["result"]["stdout"] == "one\ntwo\n" and r["result"]["exit_code"] == 0'
expect 5 'r["ok"] and r["result"]["stdout"] == "hello from /tmp\n"'
expect 6 'r["ok"] and r["result"] is None'
expect 8 'r["ok"] and r["result"]["stdout"] == "init\n" and r["result"]["exit_code"] == 3'
expect 9 'r["ok"]'
expect 14 'r["ok"] and r["result"] is True'
expect 15 'r["ok"] and r["result"]["exit_code"] == 143'
expect 16 'r["ok"]'
expect 17 'r["ok"] and r["result"]["exit_code"] == 137'
expect 18 'r["ok"]'
expect 19 'r["ok"] and r["result"]["protocol"] == 4 and all(r["result"]["GuestDefinedCapabilities"].values())'
expect 20 'r["result"] is True'
expect 21 'r["result"] is True'
expect 22 'r["ok"] and "thread " in r["result"]'
expect 23 'r["ok"]'
expect 24 'not r["ok"] and r["error"].startswith("guest RPC failure: ")'
expect 25 'not r["ok"] and r["error"] == "guest RPC failure: exec /no/such/program: no such file or directory"'
expect 26 'not r["ok"] and r["error"] == "create_process needs \"args\" or \"command_line\""'
expect 27 'not r["ok"] and r["error"] == "failed to create container c3: guest RPC failure: invalid schema version: {1 0}"'
expect 28 'not r["ok"] and r["error"] == "unknown process '"'"'nobody'"'"'"'
expect 29 'not r["ok"] and r["error"] == "unknown container '"'"'c9'"'"' (create_container first)"'
expect 30 'r["ok"]'
check_expectations

# Each container's exit is one notification with the Create's ActivityId.
"$PY" - "$WORK/bridge.jsonl" "$ACT" <<'PY' || fail "bridge log"
import json, sys
frames = [json.loads(l) for l in open(sys.argv[1])]
notes = [json.loads(f["body"]) for f in frames if f["type"] == "Notify(Container)"]
c1 = [n for n in notes if n["ContainerId"] == "c1"]
assert len(c1) == 1, notes
assert c1[0]["ActivityId"] == sys.argv[2], c1
assert c1[0]["Type"] == "UnexpectedExit", c1
c2 = [n for n in notes if n["ContainerId"] == "c2"]
assert len(c2) == 1 and c2[0]["Type"] == "ForcedExit", notes
sent = [f for f in frames if f["direction"] == "send"]
assert sent[0]["type"] == "Request(NegotiateProtocol)", sent[0]
execs = [json.loads(f["body"]) for f in sent if f["type"] == "Request(ExecuteProcess)"]
ports = execs[0]["Settings"]["VsockStdioRelaySettings"]
assert ports == {"StdOut": 1073741825, "StdErr": 1073741826}, ports
waits = [f for f in sent if f["type"] == "Request(WaitForProcess)"]
assert json.loads(waits[0]["body"])["TimeoutInMs"] == 4294967295, waits[0]
PY

# The in-process guest's sandbox (the default): the issue's command answers
# an unprivileged uid and pid 2 (the child of the sandbox's init), not root
# and a host pid; in-process-unconfined runs it on the host, and warns.
cat > "$WORK/id.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"uvm-id","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"a"}
{"op":"create_process","vm":"a","args":["/bin/sh","-c","id; echo \$\$"]}
{"op":"close","vm":"a"}
JSONL
run_scenario "$WORK/id.jsonl" 2> "$WORK/id.err"
expect 3 'r["ok"] and r["result"]["stdout"] == "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n2\n"'
check_expectations
if grep -q unconfined "$WORK/id.err"; then fail "the sandboxed guest warned: $(cat "$WORK/id.err")"; fi
run_scenario "$WORK/id.jsonl" --guest in-process-unconfined 2> "$WORK/unconfined.err"
expect 3 'r["ok"] and r["result"]["stdout"].startswith("uid='"$(id -u)"'(") and r["result"]["stdout"].split("\n")[1] != "2"'
check_expectations
grep -q "warn.*runs its processes unconfined" "$WORK/unconfined.err" ||
  fail "no warning about unconfined processes: $(cat "$WORK/unconfined.err")"

# A sandbox ends with its engine: uvmctl killed leaves no process behind.
cat > "$WORK/orphan.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"uvm-o","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"a"}
{"op":"create_process","vm":"a","args":["sleep","60"],"detach":true,"name":"long"}
{"op":"sleep","ms":30000}
JSONL
"$UVMCTL" run "$WORK/orphan.jsonl" > "$WORK/orphan.out" 2> /dev/null &
engine=$!
for _ in $(seq 100); do
  grep -q '"line":3' "$WORK/orphan.out" && break
  sleep 0.1
done
pid=$("$PY" -c 'import json, sys; print(json.loads(open(sys.argv[1]).readlines()[2])["result"]["pid"])' \
  "$WORK/orphan.out") || fail "no detached process: $(cat "$WORK/orphan.out")"
running() { [ -e "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2> /dev/null)" != Z ]; }
running "$pid" || fail "the sandbox $pid is not running"
kill -9 "$engine"
wait "$engine" 2> /dev/null || true
for _ in $(seq 50); do
  running "$pid" || break
  sleep 0.1
done
if running "$pid"; then fail "the sandbox $pid outlived its engine"; fi

# uvmctl exec relays a real process's output and exits with its code.
set +e
"$UVMCTL" exec --work-dir "$WORK/exec" lcow-1 -- sh -c 'echo out; echo err >&2; exit 7' \
  > "$WORK/exec.out" 2> "$WORK/exec.err"
code=$?
set -e
[ "$code" = 7 ] || fail "uvmctl exec exited $code"
[ "$(cat "$WORK/exec.out")" = out ] || fail "exec stdout: $(cat "$WORK/exec.out")"
grep -qx err "$WORK/exec.err" || fail "exec stderr: $(cat "$WORK/exec.err")"
[ "$(printf 'a\nb\n' | "$UVMCTL" exec -i --work-dir "$WORK/exec" lcow-2 -- cat)" = "$(printf 'a\nb')" ] ||
  fail "exec -i did not echo stdin"
echo "processes: ok"
