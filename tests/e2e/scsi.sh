# SCSI through the scenario runner: the seed's errors, ref-counting, the
# two-phase attach with a failing guest step, and the HCS requests equal to
# hcsshim's vectors.
source "$(dirname "$0")/lib.bash"
VECTORS="$(cd "$(dirname "$0")/../vectors" && pwd)"
make_host
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"uvm-a","BootFilesPath":"$WORK/boot"}}
{"op":"start","vm":"a"}
{"op":"add_scsi","vm":"a","host_path":"C:\\\\ContainerData\\\\ctr1\\\\sandbox.vhdx","uvm_path":"/run/gcs/c/ctr1","read_only":false,"vm_access":"individual"}
{"op":"add_scsi","vm":"a","host_path":"C:\\\\ContainerData\\\\layers\\\\big\\\\layer.vhd","uvm_path":"/run/mounts/m1","read_only":true,"vm_access":0}
{"op":"add_scsi","vm":"a","host_path":"C:\\\\ContainerData\\\\ctr1\\\\sandbox.vhdx","uvm_path":"/elsewhere"}
{"op":"get_scsi_uvm_path","vm":"a","host_path":"C:\\\\ContainerData\\\\ctr1\\\\sandbox.vhdx"}
{"op":"remove_scsi","vm":"a","host_path":"C:\\\\ContainerData\\\\ctr1\\\\sandbox.vhdx"}
{"op":"get_scsi_uvm_path","vm":"a","host_path":"C:\\\\ContainerData\\\\ctr1\\\\sandbox.vhdx"}
{"op":"remove_scsi","vm":"a","host_path":"C:\\\\ContainerData\\\\ctr1\\\\sandbox.vhdx"}
{"op":"get_scsi_uvm_path","vm":"a","host_path":"C:\\\\ContainerData\\\\ctr1\\\\sandbox.vhdx"}
{"op":"remove_scsi","vm":"a","host_path":"C:\\\\ContainerData\\\\ctr1\\\\sandbox.vhdx"}
{"op":"guest_fail","vm":"a","count":1}
{"op":"add_scsi","vm":"a","host_path":"/disks/g.vhdx","uvm_path":"/run/mounts/g"}
{"op":"sim_oracle"}
{"op":"sim_fail","vm":"a","call":"modify","count":1}
{"op":"add_scsi","vm":"a","host_path":"/disks/h.vhdx","uvm_path":"/run/mounts/h"}
{"op":"add_scsi","vm":"a","host_path":"/disks/g.vhdx","uvm_path":"/run/mounts/g"}
{"op":"device_view","vm":"a"}
{"op":"create_lcow","vm":"n","options":{"ID":"uvm-n","BootFilesPath":"$WORK/boot","SCSIControllerCount":0}}
{"op":"start","vm":"n"}
{"op":"add_scsi","vm":"n","host_path":"/disks/x.vhdx"}
{"op":"remove_scsi","vm":"n","host_path":"/disks/x.vhdx"}
{"op":"add_scsi","vm":"nobody","host_path":"/disks/x.vhdx"}
{"op":"add_scsi","vm":"a"}
{"op":"terminate","vm":"a"}
{"op":"wait","vm":"a"}
{"op":"add_scsi","vm":"a","host_path":"/disks/late.vhdx"}
JSONL
run_scenario "$WORK/s.jsonl" --hcs-log "$WORK/hcs.jsonl"
expect 3 'r["ok"] and r["result"] == {"HostPath": "C:\\ContainerData\\ctr1\\sandbox.vhdx", "UVMPath": "/run/gcs/c/ctr1", "Controller": 0, "LUN": 0}'
expect 4 'r["ok"] and r["result"]["LUN"] == 1'
# A repeat add shares the attachment and keeps its first guest path.
expect 5 'r["ok"] and r["result"]["LUN"] == 0 and r["result"]["UVMPath"] == "/run/gcs/c/ctr1"'
expect 6 'r["result"] == "/run/gcs/c/ctr1"'
expect 7 'r["ok"]'
expect 8 'r["result"] == "/run/gcs/c/ctr1"'
expect 9 'r["ok"]'
expect 10 'not r["ok"] and r["error"] == "not attached"'
expect 11 'not r["ok"] and r["error"] == "not attached"'
expect 13 'not r["ok"] and r["error"] == "failed to modify UVM with new SCSI mount: guest modify: guest RPC failure: injected guest fault"'
# The failed guest step was rolled back: the simulator holds only LUN 1.
expect 14 'sorted(r["result"]["uvm-a"]["scsi"].keys()) == ["0:1"]'
expect 16 'not r["ok"] and r["error"].startswith("failed to modify UVM with new SCSI mount: adding VM resources: hcsshim::System::Modify uvm-a: injected fault")'
expect 17 'r["ok"] and r["result"]["LUN"] == 0'
expect 18 'sorted(r["result"]["scsi"].keys()) == ["0:0", "0:1"] and r["result"]["scsi"]["0:0"]["host_path"] == "/disks/g.vhdx"'
expect 18 'sorted(r["result"]["gcs_bridge"]["mounts"].keys()) == ["MappedVirtualDisk /run/mounts/g", "MappedVirtualDisk /run/mounts/m1"]'
expect 21 'not r["ok"] and r["error"] == "no SCSI controllers configured for this utility VM"'
expect 22 'not r["ok"] and r["error"] == "no SCSI controllers configured for this utility VM"'
expect 23 "r['error'] == \"unknown vm 'nobody'\""
expect 24 'r["error"] == "missing string argument \"host_path\""'
expect 27 'not r["ok"] and r["error"] == "utility VM uvm-a is stopped: cannot add a SCSI disk"'
check_expectations

# The host part HCS received equals hcsshim's bytes (external bridge: the
# guest request goes over the bridge, not to HCS).
"$PY" - "$WORK/hcs.jsonl" "$VECTORS" <<'PY' || fail "hcs log vs vectors"
import json, sys
vec = sys.argv[2]
def canon(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)
mods = [json.loads(l)["request"] for l in open(sys.argv[1]) if json.loads(l)["call"] == "modify"]
first = canon(mods[0])
want = open(vec + "/scsi-add-lcow.hcs.json").read()
assert first == want, (first, want)
lun1 = json.load(open(vec + "/scsi-add-lcow-lun1-ro.modify.json"))
del lun1["GuestRequest"]
assert canon(mods[1]) == canon(lun1), (mods[1], lun1)
# add, add, remove (one detach), then the rolled-back guest failure: add + remove.
kinds = [(m["RequestType"], m["ResourcePath"]) for m in mods]
assert kinds[2] == ("Remove", "VirtualMachine/Devices/Scsi/0/Attachments/0"), kinds
assert kinds[3] == ("Add", "VirtualMachine/Devices/Scsi/0/Attachments/0"), kinds
assert kinds[4] == ("Remove", "VirtualMachine/Devices/Scsi/0/Attachments/0"), kinds
PY
echo "scsi scenario: ok"
