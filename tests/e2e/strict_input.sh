# Strict input: a 1 GB line and deep nesting get clear errors in bounded
# memory; every integer option out of its Go range, every argument of the
# wrong JSON type or out of its range, and unknown enumeration values get
# an error naming the field; the runner goes on with the next line.
source "$(dirname "$0")/lib.bash"
make_host

# 1. A 1 GB line, made as it is read (a pipe), then a valid line. The
# runner must answer both, and its peak memory may not grow by more than a
# few MB over a one-line scenario's (the baseline differs between builds:
# ASan's alone is over 100 MB).
"$PY" - "$UVMCTL" > "$WORK/big.out" <<'PY' || fail "1 GB line"
import os, subprocess, sys

def run(feed):
    """uvmctl run - on what `feed` prints: its output and its peak RSS in kB."""
    p = subprocess.Popen(["bash", "-c", "{ " + feed + "; } | \"$0\" run -", sys.argv[1]],
                         stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 0, p.returncode
    return out.splitlines(), usage.ru_maxrss

_, base_kb = run("echo '{\"op\":\"sleep\",\"ms\":0}'")
lines, big_kb = run("head -c 1073741824 /dev/zero; echo; echo '{\"op\":\"sleep\",\"ms\":0}'")
assert len(lines) == 2, lines
print(lines[0])
print(lines[1])
print(f"peak RSS {big_kb} kB with the 1 GB line, {base_kb} kB without", file=sys.stderr)
assert big_kb - base_kb < 16 * 1024, f"peak RSS grew by {big_kb - base_kb} kB"
PY
OUT="$WORK/big.out"
expect 1 'r["op"] is None and not r["ok"] and r["error"] == "invalid scenario line: line 1 has 1073741824 bytes, more than the limit of 1048576"'
expect 2 'r["op"] == "sleep" and r["ok"]'
check_expectations

# 2. Deep nesting, wrong line shapes, wrong types of the common members.
"$PY" - "$WORK" > "$WORK/s.jsonl" <<'PY'
import json, sys
work = sys.argv[1]
lines = [
    '{"op":"sleep","x":' + '[' * 10000 + ']' * 10000 + '}',                       # 1
    '{"op":"sleep","x":' + '{"a":' * 10000 + '1' + '}' * 10000 + '}',             # 2
    '[' * 600000,                                                                 # 3
    '{"op":"sleep","x":' + '[' * 511 + ']' * 511 + '}',                           # 4
    'this is not json',                                                           # 5
    '[1,2]',                                                                      # 6
    '{"op":7}',                                                                   # 7
    '{"vm":"a"}',                                                                 # 8
    '{"op":"start","vm":["a"]}',                                                  # 9
    '{"op":"sleep","activity_id":{}}',                                            # 10
    '{"op":"sleep","ms":1e999}',                                                  # 11
]
opts = {"BootFilesPath": work + "/boot"}
add = dict(opts, AdditionHCSDocumentJSON="[" * 10001 + "]" * 10001)
lines.append(json.dumps({"op": "create_lcow", "vm": "deep", "options": add}))   # 12
lines.append(json.dumps({"op": "create_lcow", "vm": "a", "options": opts}))     # 13
print("\n".join(lines))
PY
run_scenario "$WORK/s.jsonl"
too_deep='r["error"] == "invalid scenario line: JSON nested deeper than 512 levels"'
expect 1 "r['op'] is None and not r['ok'] and $too_deep"
expect 2 "$too_deep"
expect 3 "$too_deep"
expect 4 'r["ok"]'
expect 5 'r["error"] == "invalid scenario line: not a JSON object (syntax error at byte 2)"'
expect 6 'r["error"] == "invalid scenario line: not a JSON object (an array)"'
expect 7 'r["op"] is None and r["error"] == "\"op\" must be a string, got 7"'
expect 8 'r["error"] == "missing string argument \"op\""'
expect 9 'r["op"] == "start" and r["error"] == "\"vm\" must be a string, got an array"'
expect 10 'r["error"] == "\"activity_id\" must be a string, got an object"'
expect 11 'r["error"] == "invalid scenario line: not a JSON object (a number beyond the range of a double)"'
expect 12 'not r["ok"] and r["error"].startswith("failed to merge additional JSON") and r["error"].endswith("exceeded max depth")'
expect 13 'r["ok"]'
check_expectations

# 3. Every integer option out of its Go type, the issue's example first.
"$PY" - "$WORK" > "$WORK/s.jsonl" <<'PY'
import json, sys
work = sys.argv[1]
i32 = (-2**31, 2**31 - 1, "int32")
u32 = (0, 2**32 - 1, "uint32")
u64 = (0, 2**64 - 1, "uint64")
fields = {"MemorySizeInMB": i32, "ProcessorCount": i32, "ProcessorLimit": i32,
          "ProcessorWeight": i32, "StorageQoSIopsMaximum": i32,
          "StorageQoSBandwidthMaximum": i32, "LowMMIOGapInMB": u64, "HighMMIOBaseInMB": u64,
          "HighMMIOGapInMB": u64, "SCSIControllerCount": u32, "VPMemDeviceCount": u32,
          "VPMemSizeBytes": u64}
print(json.dumps({"op": "create_lcow", "vm": "x",
                  "options": {"BootFilesPath": work + "/boot", "VPMemDeviceCount": 2**32}}))
for name, (lo, hi, go) in fields.items():
    for value in (lo - 1, hi + 1):
        print(json.dumps({"op": "create_lcow", "vm": "x",
                          "options": {"BootFilesPath": work + "/boot", name: value}}))
        print(json.dumps({"op": "create_wcow", "vm": "x",
                          "options": {"LayerFolders": [work + "/layers/base", work + "/s"],
                                      name: value}}) if name in list(fields)[:9] else
              json.dumps({"op": "sleep"}))
print(json.dumps({"op": "create_lcow", "vm": "x", "restart_policy": {"max_restarts": -1},
                  "options": {"BootFilesPath": work + "/boot"}}))
print(json.dumps({"op": "create_lcow", "vm": "x", "options": {"BootFilesPath": work + "/boot",
                                                              "Backend": "kvm"}}))
print(json.dumps({"op": "exits"}))
PY
run_scenario "$WORK/s.jsonl"
"$PY" - "$OUT" <<'PY' || fail "integer options"
import json, sys
out = [json.loads(l) for l in open(sys.argv[1])]
assert out[0]["error"] == ("options field 'VPMemDeviceCount' must be an integer in "
                           "0..4294967295 (uint32), got 4294967296"), out[0]
names = ["MemorySizeInMB", "ProcessorCount", "ProcessorLimit", "ProcessorWeight",
         "StorageQoSIopsMaximum", "StorageQoSBandwidthMaximum", "LowMMIOGapInMB",
         "HighMMIOBaseInMB", "HighMMIOGapInMB", "SCSIControllerCount", "VPMemDeviceCount",
         "VPMemSizeBytes"]
i = 1
for name in names:
    for _ in range(2):
        for r in out[i:i + 2]:
            if r["op"] == "sleep":
                continue
            assert not r["ok"] and r["error"].startswith(f"options field '{name}' must be an integer in "), r
        i += 2
assert out[i]["error"] == ("restart_policy field 'max_restarts' must be an integer in "
                           "0..4294967295 (uint32), got -1"), out[i]
assert out[i + 1]["error"] == "options field 'Backend' must be \"sim\" or \"qemu\", got \"kvm\"", out[i + 1]
# No VM was created by any of them.
assert out[i + 2]["ok"] and out[i + 2]["result"] == [], out[i + 2]
PY

# 4. Every argument of every op with a wrong JSON type or out of its
# range: an error naming it, and the runner goes on.
"$PY" - "$WORK" > "$WORK/s.jsonl" 2> "$WORK/expected.json" <<'PY'
import json, sys
work = sys.argv[1]
setup = [
    {"op": "create_lcow", "vm": "a", "options": {"BootFilesPath": work + "/boot"}},
    {"op": "create_wcow", "vm": "w",
     "options": {"LayerFolders": [work + "/layers/base", work + "/scratch"]}},
    {"op": "start", "vm": "a"},
    {"op": "start", "vm": "w"},
    {"op": "create_process", "vm": "a", "args": ["sleep", "0.2"], "detach": True, "name": "p"},
]
# (line, what the error must mention)
cases = [
    ({"op": "create_lcow", "vm": "b", "options": 5}, "options"),
    ({"op": "create_lcow", "vm": "b", "restart_policy": "x"}, "restart_policy"),
    ({"op": "add_scsi", "vm": "a", "host_path": 1}, '"host_path"'),
    ({"op": "add_scsi", "vm": "a", "host_path": "d", "uvm_path": 1}, '"uvm_path"'),
    ({"op": "add_scsi", "vm": "a", "host_path": "d", "read_only": "yes"}, '"read_only"'),
    ({"op": "add_scsi", "vm": "a", "host_path": "d", "vm_access": "all"}, "vm_access"),
    ({"op": "add_scsi", "vm": "a", "host_path": "d", "vm_access": 4294967296}, "vm_access"),
    ({"op": "add_scsi_physical_disk", "vm": "a", "host_path": "d", "read_only": 0}, '"read_only"'),
    ({"op": "remove_scsi", "vm": "a", "host_path": None}, '"host_path"'),
    ({"op": "get_scsi_uvm_path", "vm": "a", "host_path": []}, '"host_path"'),
    ({"op": "add_vpmem", "vm": "a", "host_path": {}}, '"host_path"'),
    ({"op": "remove_vpmem", "vm": "a", "host_path": 2}, '"host_path"'),
    ({"op": "add_vsmb", "vm": "w", "host_path": work, "options": {"ReadOnly": 1}}, "'ReadOnly'"),
    ({"op": "add_vsmb", "vm": "w", "host_path": work, "options": {"Bogus": True}}, "'Bogus'"),
    ({"op": "remove_vsmb", "vm": "w", "host_path": 1}, '"host_path"'),
    ({"op": "get_vsmb_uvm_path", "vm": "w", "host_path": 1}, '"host_path"'),
    ({"op": "add_plan9", "vm": "a", "host_path": work, "uvm_path": 1}, '"uvm_path"'),
    ({"op": "add_plan9", "vm": "a", "host_path": work, "uvm_path": "/p", "read_only": 1},
     '"read_only"'),
    ({"op": "add_plan9", "vm": "a", "host_path": work, "uvm_path": "/p", "restrict": "no"},
     '"restrict"'),
    ({"op": "add_plan9", "vm": "a", "host_path": work, "uvm_path": "/p", "allowed_names": [1]},
     '"allowed_names"'),
    ({"op": "remove_plan9", "vm": "a", "share": {"Name": "0", "HostPath": 1}}, "'HostPath'"),
    ({"op": "add_pipe", "vm": "w", "host_path": 1}, '"host_path"'),
    ({"op": "is_pipe", "host_path": 1}, '"host_path"'),
    ({"op": "get_container_pipe_mapping", "mount": "m"}, '"mount"'),
    ({"op": "get_container_pipe_mapping", "source": 1, "destination": "d"}, '"source"'),
    ({"op": "add_net_ns", "vm": "a", "id": 1}, '"id"'),
    ({"op": "add_endpoints_to_ns", "vm": "a", "id": "n",
      "endpoints": [{"ID": "e", "PrefixLength": 256}]}, "'PrefixLength'"),
    ({"op": "add_endpoints_to_ns", "vm": "a", "id": "n",
      "endpoints": [{"ID": "e", "EncapOverhead": -1}]}, "'EncapOverhead'"),
    ({"op": "assign_device", "vm": "w",
      "device": {"Functions": [{"DeviceInstancePath": "p", "VirtualFunction": 65536}]}},
     "'VirtualFunction'"),
    ({"op": "remove_device", "vm": "w", "id": 1}, '"id"'),
    ({"op": "combine_layers_lcow", "vm": "a", "rootfs_path": "/r", "layer_paths": "l"},
     '"layer_paths"'),
    ({"op": "combine_layers_lcow", "vm": "a", "rootfs_path": "/r", "layer_paths": ["l"],
      "scratch_path": 1}, '"scratch_path"'),
    ({"op": "combine_layers_wcow", "vm": "w", "container_root_path": "c",
      "layers": [{"Path": "p", "PathType": 1}]}, "'PathType'"),
    ({"op": "remove_combined_layers", "vm": "a", "rootfs_path": 1}, '"rootfs_path"'),
    ({"op": "create_container", "vm": "a", "id": 1}, '"id"'),
    ({"op": "create_container", "vm": "a", "id": "c", "settings": 1}, '"settings"'),
    ({"op": "create_container", "vm": "a", "id": "c", "args": ["sh"], "env": "A=1"}, '"env"'),
    ({"op": "create_container", "vm": "a", "id": "c", "args": ["sh"], "cwd": 1}, '"cwd"'),
    ({"op": "start_container", "vm": "a", "id": 1}, '"id"'),
    ({"op": "create_process", "vm": "a", "args": "sh"}, '"args"'),
    ({"op": "create_process", "vm": "a", "command_line": 1}, '"command_line"'),
    ({"op": "create_process", "vm": "a", "args": ["sh"], "working_directory": 1},
     '"working_directory"'),
    ({"op": "create_process", "vm": "a", "args": ["sh"], "environment": {"A": 1}},
     '"environment"'),
    ({"op": "create_process", "vm": "a", "args": ["sh"], "container_id": 1}, '"container_id"'),
    ({"op": "create_process", "vm": "a", "args": ["sh"], "container_id": "c", "init": 1},
     '"init"'),
    ({"op": "create_process", "vm": "a", "args": ["sh"], "stdin": 1}, '"stdin"'),
    ({"op": "create_process", "vm": "a", "args": ["sh"], "detach": 1}, '"detach"'),
    ({"op": "create_process", "vm": "a", "args": ["sh"], "detach": True, "name": 1}, '"name"'),
    ({"op": "signal_process", "vm": "a", "process": "p", "signal": "TERM"}, '"signal"'),
    ({"op": "signal_process", "vm": "a", "process": "p", "signal": 2**31}, '"signal"'),
    ({"op": "wait_process", "vm": "a", "process": 2**32}, '"process"'),
    ({"op": "delete_container_state", "vm": "a", "cid": 1}, '"cid"'),
    ({"op": "guest_fail", "vm": "a", "count": -1}, '"count"'),
    ({"op": "guest_fail", "vm": "a", "count": 2**32}, '"count"'),
    ({"op": "sim_fail", "call": 1}, '"call"'),
    ({"op": "sim_fail", "call": "boot"}, "'boot'"),
    ({"op": "sim_fail", "call": "start", "count": 1.5}, '"count"'),
    ({"op": "sim_fail", "call": "start", "probability": "half"}, '"probability"'),
    ({"op": "sim_crash", "vm": "a", "after_calls": -3}, '"after_calls"'),
    ({"op": "sim_crash", "vm": "a", "after_ms": 2**63 - 1}, '"after_ms"'),
    ({"op": "sim_latency", "call": "start", "ms": -1}, '"ms"'),
    ({"op": "sim_latency", "call": "start", "min_ms": "1"}, '"min_ms"'),
    ({"op": "sim_latency", "call": "start", "max_ms": 86400001}, '"max_ms"'),
    ({"op": "sleep", "ms": "x"}, '"ms"'),
    ({"op": "sleep", "ms": 1e300}, '"ms"'),
    ({"op": "sleep", "ms": 9223372036854775807}, '"ms"'),
]
teardown = [
    {"op": "wait_process", "vm": "a", "process": "p"},
    {"op": "create_process", "vm": "a", "args": ["printf", "\\377\\n"]},
    {"op": "close", "vm": "a"},
    {"op": "close", "vm": "w"},
]
for line in setup + [c[0] for c in cases] + teardown:
    print(json.dumps(line))
first = len(setup) + 1
print(json.dumps({"setup": len(setup), "cases": [[first + i, c[1]] for i, c in enumerate(cases)],
                  "total": len(setup) + len(cases) + len(teardown)}), file=sys.stderr)
PY
run_scenario "$WORK/s.jsonl"
"$PY" - "$OUT" "$WORK/expected.json" <<'PY' || fail "argument checks"
import json, sys
out = {r["line"]: r for r in map(json.loads, open(sys.argv[1]))}
plan = json.load(open(sys.argv[2]))
assert len(out) == plan["total"], f"{len(out)} output lines, expected {plan['total']}"
for n in range(1, plan["setup"] + 1):
    assert out[n]["ok"], out[n]
bad = 0
for n, word in plan["cases"]:
    r = out[n]
    if r["ok"] or word not in r["error"]:
        print(f"line {n}: expected an error naming {word}, got {json.dumps(r)}", file=sys.stderr)
        bad += 1
total = plan["total"]
# The detached process ended; output bytes that are not UTF-8 become U+FFFD
# (they used to end the runner with an exception).
assert out[total - 3]["ok"], out[total - 3]
assert out[total - 2]["ok"] and out[total - 2]["result"]["stdout"] == "\ufffd\n", out[total - 2]
assert out[total]["ok"], out[total]
sys.exit(1 if bad else 0)
PY
# 5. Files uvmctl opens itself: a folder or a missing file is named, exit 2.
check_refusal() { # expected-text command...
  local want=$1 got status=0
  shift
  got=$("$@" 2>&1 < /dev/null) || status=$?
  [ "$status" -eq 2 ] || fail "$* exited $status, not 2"
  [ "$got" = "$want" ] || fail "$*: got '$got', expected '$want'"
}
check_refusal "uvmctl run: cannot read $WORK: is a directory" "$UVMCTL" run "$WORK"
check_refusal "uvmctl run: cannot open $WORK/none.jsonl: no such file or directory" \
  "$UVMCTL" run "$WORK/none.jsonl"
check_refusal "{\"error\":\"cannot open --hcs-log file $WORK: is a directory\"}" \
  "$UVMCTL" run "$WORK/s.jsonl" --hcs-log "$WORK"
echo "strict input: ok"
