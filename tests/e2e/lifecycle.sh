# The scenario runner for every lifecycle op, with --hcs-log.
source "$(dirname "$0")/lib.bash"
make_host
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"uvm-a","Owner":"uvmtest","BootFilesPath":"$WORK/boot"}}
{"op":"id","vm":"a"}
{"op":"os","vm":"a"}
{"op":"is_oci","vm":"a"}
{"op":"processor_count","vm":"a"}
{"op":"exit_error","vm":"a"}
{"op":"start","vm":"a"}
{"op":"stats","vm":"a"}
{"op":"container_counter","vm":"a"}
{"op":"container_counter","vm":"a"}
{"op":"uvm_mount_counter","vm":"a"}
{"op":"terminate","vm":"a"}
{"op":"wait","vm":"a"}
{"op":"exit_error","vm":"a"}
{"op":"close","vm":"a"}

{"op":"create_wcow","vm":"w","options":{"ID":"uvm-w","LayerFolders":["$WORK/layers/base","$WORK/scratch"]}}
{"op":"os","vm":"w"}
{"op":"start","vm":"w"}
{"op":"sim_crash","vm":"w"}
{"op":"sleep","ms":100}
{"op":"exit_error","vm":"w"}
{"op":"wait","vm":"w"}
{"op":"start","vm":"w"}
{"op":"close","vm":"w"}
{"op":"create_lcow","vm":"bad","options":{"BootFilesPath":"$WORK/nowhere"}}
{"op":"create_lcow","vm":"bad2","options":{"BootFilesPath":"$WORK/boot","VPMemDeviceCount":129}}
{"op":"create_lcow","vm":"bad3","options":{"BootFilesPath":"$WORK/boot","Bogus":1}}
{"op":"bogus"}
this is not json
{"op":"start","vm":"nobody"}
{"op":"create_lcow","vm":"f","options":{"ID":"uvm-f","BootFilesPath":"$WORK/boot","ProcessorCount":1,"MemorySizeInMB":511}}
{"op":"sim_fail","vm":"f","call":"start","count":1}
{"op":"start","vm":"f"}
{"op":"sim_latency","call":"start","ms":20}
{"op":"start","vm":"f"}
{"op":"processor_count","vm":"f"}
{"op":"shutdown","vm":"f"}
{"op":"wait","vm":"f"}
{"op":"close","vm":"f"}
JSONL
run_scenario "$WORK/s.jsonl" --hcs-log "$WORK/hcs.jsonl"

expect 1 'r["op"] == "create_lcow" and r["ok"] and r["result"]["id"] == "uvm-a"'
expect 1 'list(r.keys()) == ["line", "op", "ok", "result"]'
expect 2 'r["ok"] and r["result"] == "uvm-a"'
expect 3 'r["result"] == "linux"'
expect 4 'r["result"] is False'
expect 5 'r["result"] == 2'
expect 6 'not r["ok"] and r["error"] == "container not exited"'
expect 6 'list(r.keys()) == ["line", "op", "ok", "error"]'
expect 7 'r["ok"] and r["result"] is None'
expect 8 'r["ok"] and r["result"]["Memory"]["VmMemory"]["AssignedMemory"] > 0'
expect 9 'r["result"] == 1'
expect 10 'r["result"] == 2'
expect 11 'r["result"] == 1'
expect 12 'r["ok"]'
expect 13 'r["ok"]'
expect 14 'r["ok"] and r["result"] is None'
expect 15 'r["ok"]'
# Line 16 is blank: no output for it.
expect 17 'r["ok"] and r["result"]["os"] == "windows"'
expect 18 'r["result"] == "windows"'
expect 19 'r["ok"]'
expect 20 'r["ok"]'
expect 22 'not r["ok"] and r["error"] == "hcsshim::System::waitBackground uvm-w: The virtual machine or container exited unexpectedly."'
expect 23 'r["ok"]'
expect 24 'not r["ok"] and r["error"].startswith("utility VM uvm-w exited unexpectedly: ")'
expect 25 'r["ok"]'
expect 26 "not r['ok'] and r['error'] == \"kernel: '$WORK/nowhere/kernel' not found\""
expect 27 'r["error"] == "vpmem device count cannot be greater than 128"'
expect 28 "r['error'] == \"unknown options field 'Bogus'\""
expect 29 "r['op'] == 'bogus' and r['error'] == \"unknown op 'bogus'\""
expect 30 'r["op"] is None and not r["ok"]'
expect 31 "r['error'] == \"unknown vm 'nobody'\""
expect 32 'r["ok"] and r["result"]["processor_count"] == 1'
expect 33 'r["ok"]'
expect 34 'not r["ok"] and r["error"] == "hcsshim::System::Start uvm-f: injected fault"'
expect 36 'r["ok"]'
expect 37 'r["result"] == 1'
expect 38 'r["ok"]'
expect 39 'r["ok"]'
expect 40 'r["ok"]'
check_expectations
[ "$(grep -c '"line"' "$OUT")" -eq 39 ] || fail "expected 39 output lines, got $(wc -l < "$OUT")"

# The HCS log: every call, in order, with its document.
"$PY" - "$WORK/hcs.jsonl" "$WORK" <<'PY' || fail "hcs log"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
work = sys.argv[2]
a = [c for c in calls if c["id"] == "uvm-a"]
assert [c["call"] for c in a] == ["create", "properties", "start", "properties", "terminate", "close"], [c["call"] for c in a]
doc = a[0]["document"]
assert doc["Owner"] == "uvmtest"
assert doc["VirtualMachine"]["Chipset"]["LinuxKernelDirect"]["KernelFilePath"] == work + "/boot/kernel"
assert doc["VirtualMachine"]["Devices"]["VirtualPMem"] == {"MaximumCount": 64, "MaximumSizeBytes": 4294967296}
assert a[1]["query"] == {}
assert a[3]["query"] == {"PropertyTypes": ["Statistics", "Memory"]}
w = [c for c in calls if c["id"] == "uvm-w"]
assert w[0]["document"]["VirtualMachine"]["Devices"]["Scsi"]["0"]["Attachments"]["0"]["Path"] == work + "/scratch/sandbox.vhdx"
f = [c for c in calls if c["id"] == "uvm-f"]
assert f[0]["document"]["VirtualMachine"]["ComputeTopology"] == {"Memory": {"SizeInMB": 512, "AllowOvercommit": True}, "Processor": {"Count": 1}}
assert [c["call"] for c in f].count("start") == 2
assert "shutdown" in [c["call"] for c in f]
PY
echo "lifecycle scenario: ok"
