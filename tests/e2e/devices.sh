# VPMEM, Plan9, VSMB, pipes, network, VPCI, combined layers and one SCSI
# disk through the scenario runner: ref-counting, the seed's errors, and the HCS requests and
# bridge bodies equal to hcsshim's vectors. The vectors' host paths are
# Windows paths; on Linux they are ordinary file names, so the scenario runs
# in a folder that holds files and folders named exactly like them.
source "$(dirname "$0")/lib.bash"
VECTORS="$(cd "$(dirname "$0")/../vectors" && pwd)"
make_host
cd "$WORK"
mkdir -p 'C:\ContainerData\layers\l1' 'C:\share\data'
printf 'layer' > 'C:\ContainerData\layers\l1\layer.vhd'
head -c 8192 /dev/zero > big.vhd
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"uvm-a","BootFilesPath":"$WORK/boot","VPMemSizeBytes":4096,"VPMemDeviceCount":1}}
{"op":"start","vm":"a"}
{"op":"add_vpmem","vm":"a","host_path":"C:\\\\ContainerData\\\\layers\\\\l1\\\\layer.vhd"}
{"op":"add_vpmem","vm":"a","host_path":"C:\\\\ContainerData\\\\layers\\\\l1\\\\layer.vhd"}
{"op":"add_vpmem","vm":"a","host_path":"big.vhd"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/boot/kernel"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/missing.vhd"}
{"op":"add_plan9","vm":"a","host_path":"C:\\\\share\\\\data","uvm_path":"/run/mounts/m2","read_only":true}
{"op":"add_plan9","vm":"a","host_path":"C:\\\\share\\\\data","uvm_path":"/run/mounts/m2","read_only":true}
{"op":"add_plan9","vm":"a","host_path":"C:\\\\share\\\\data","uvm_path":"/run/mounts/other"}
{"op":"add_plan9","vm":"a","host_path":"C:\\\\share\\\\data"}
{"op":"device_view","vm":"a"}
{"op":"remove_vpmem","vm":"a","host_path":"C:\\\\ContainerData\\\\layers\\\\l1\\\\layer.vhd"}
{"op":"sim_oracle"}
{"op":"remove_vpmem","vm":"a","host_path":"C:\\\\ContainerData\\\\layers\\\\l1\\\\layer.vhd"}
{"op":"remove_vpmem","vm":"a","host_path":"C:\\\\ContainerData\\\\layers\\\\l1\\\\layer.vhd"}
{"op":"remove_plan9","vm":"a","share":{"Name":"0"}}
{"op":"remove_plan9","vm":"a","share":"0"}
{"op":"remove_plan9","vm":"a","share":"0"}
{"op":"add_vsmb","vm":"a","host_path":"$WORK"}
{"op":"guest_fail","vm":"a","count":1}
{"op":"add_vpmem","vm":"a","host_path":"C:\\\\ContainerData\\\\layers\\\\l1\\\\layer.vhd"}
{"op":"sim_oracle"}
{"op":"create_wcow","vm":"w","options":{"ID":"uvm-w","LayerFolders":["$WORK/layers/base","$WORK/scratch"]}}
{"op":"start","vm":"w"}
{"op":"add_vsmb","vm":"w","host_path":"C:\\\\ContainerData\\\\layers\\\\l1","options":{"ReadOnly":true,"ShareRead":true,"CacheIo":true,"TakeBackupPrivilege":true,"PseudoOplocks":true}}
{"op":"add_vsmb","vm":"w","host_path":"C:\\\\ContainerData\\\\layers\\\\l1","options":{"ReadOnly":true}}
{"op":"get_vsmb_uvm_path","vm":"w","host_path":"C:\\\\ContainerData\\\\layers\\\\l1"}
{"op":"remove_vsmb","vm":"w","host_path":"C:\\\\ContainerData\\\\layers\\\\l1"}
{"op":"remove_vsmb","vm":"w","host_path":"C:\\\\ContainerData\\\\layers\\\\l1"}
{"op":"remove_vsmb","vm":"w","host_path":"C:\\\\ContainerData\\\\layers\\\\l1"}
{"op":"add_plan9","vm":"w","host_path":"C:\\\\share\\\\data","uvm_path":"/x"}
{"op":"add_vpmem","vm":"w","host_path":"big.vhd"}
{"op":"add_pipe","vm":"w","host_path":"\\\\\\\\.\\\\pipe\\\\foo"}
{"op":"is_pipe","host_path":"\\\\\\\\.\\\\pipe\\\\foo"}
{"op":"get_container_pipe_mapping","vm":"w","mount":{"source":"\\\\\\\\.\\\\pipe\\\\foo","destination":"\\\\\\\\.\\\\pipe\\\\bar"}}
{"op":"add_net_ns","vm":"a","id":"ns1"}
{"op":"add_net_ns","vm":"a","id":"ns1"}
{"op":"add_endpoints_to_ns","vm":"a","id":"ns1","endpoints":[{"ID":"ep1","MacAddress":"00-15-5D-00-00-01","IPAddress":"10.0.0.2","PrefixLength":24,"Namespace":{"ID":"ns1"}},{"ID":"ep1"}]}
{"op":"add_endpoints_to_ns","vm":"a","id":"nope","endpoints":[]}
{"op":"assign_device","vm":"a","device":{"Functions":[{"DeviceInstancePath":"PCIP\\\\VEN_10DE"}]}}
{"op":"combine_layers_lcow","vm":"a","layer_paths":["/run/layers/p0"],"scratch_path":"/run/gcs/c/1/scratch","rootfs_path":"/run/gcs/c/1/rootfs"}
{"op":"combine_layers_wcow","vm":"a","layers":[{"Path":"C:\\\\l"}],"container_root_path":"C:\\\\c\\\\1"}
{"op":"sim_oracle"}
{"op":"device_view","vm":"a"}
{"op":"remove_net_ns","vm":"a","id":"ns1"}
{"op":"remove_combined_layers","vm":"a","rootfs_path":"/run/gcs/c/1/rootfs"}
{"op":"remove_pipe","vm":"w","host_path":"\\\\\\\\.\\\\pipe\\\\foo"}
{"op":"sim_oracle"}
{"op":"add_scsi","vm":"a","host_path":"C:\\\\ContainerData\\\\ctr1\\\\sandbox.vhdx","uvm_path":"/run/gcs/c/ctr1","read_only":false,"vm_access":"individual"}
JSONL
run_scenario "$WORK/s.jsonl" --hcs-log "$WORK/hcs.jsonl" --bridge-log "$WORK/bridge.jsonl"
expect 3 'r["ok"] and r["result"] == "/run/layers/p0"'
expect 4 'r["ok"] and r["result"] == "/run/layers/p0"'
expect 5 'r["error"] == "layer size is to large for VPMEM max size"'
expect 6 'r["error"] == "no available location"'
expect 7 'r["error"].startswith("stat ") and r["error"].endswith("missing.vhd: no such file or directory")'
expect 8 'r["result"] == {"Name": "0", "HostPath": "C:\\share\\data", "UVMPath": "/run/mounts/m2"}'
# An identical share is shared; a different guest path is a new share.
expect 9 'r["result"]["Name"] == "0"'
expect 10 'r["result"]["Name"] == "1"'
expect 11 'r["error"] == "uvmPath must be passed to AddPlan9"'
expect 12 'r["result"]["vpmem"]["devices"]["0"]["refs"] == 2 and r["result"]["shares"]["plan9"]["0"]["refs"] == 2'
expect 14 '"0" in r["result"]["uvm-a"]["vpmem"]'
expect 15 'r["ok"]'
expect 16 'r["error"] == "not attached"'
expect 17 'r["ok"]'
expect 18 'r["ok"]'
expect 19 'r["error"] == "not attached"'
expect 20 'r["error"] == "not supported"'
expect 22 'r["error"] == "uvm::AddVPMEM: failed to modify utility VM configuration: guest modify: guest RPC failure: injected guest fault"'
# The failed guest step was rolled back; share 1 is still there.
expect 23 'r["result"]["uvm-a"]["vpmem"] == {} and list(r["result"]["uvm-a"]["plan9"]) == ["1"]'
expect 26 'r["result"]["Name"] == "s1" and r["result"]["GuestPath"] == "\\\\?\\VMSMB\\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\\s1"'
expect 27 'r["result"]["Name"] == "s1"'
expect 28 'r["result"] == "\\\\?\\VMSMB\\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\\s1"'
expect 29 'r["ok"]'
expect 30 'r["ok"]'
expect 31 'r["error"] == "C:\\ContainerData\\layers\\l1 is not present as a VSMB share in uvm-w, cannot remove"'
expect 32 'r["error"] == "not supported"'
expect 33 'r["error"] == "not supported"'
expect 34 'r["result"] == {"HostPath": "\\\\.\\pipe\\foo"}'
expect 35 'r["result"] is True'
expect 36 'r["result"] == {"src": "\\\\?\\VMSMB\\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\\IPC$\\foo", "dst": "bar"}'
expect 38 'r["error"] == "network namespace already added"'
expect 39 'r["ok"]'
expect 40 'r["error"] == "network namespace not found"'
expect 41 'r["ok"] and len(r["result"]["ID"]) == 36'
expect 43 'r["error"] == "not supported"'
# One NIC for the endpoint given twice; the VPCI device; the pipe.
expect 44 'len(r["result"]["uvm-a"]["network_adapters"]) == 1 and len(r["result"]["uvm-a"]["vpci"]) == 1 and r["result"]["uvm-w"]["mapped_pipes"] == ["\\\\.\\pipe\\foo"]'
expect 45 'list(r["result"]["combined_layers"]) == ["/run/gcs/c/1/rootfs"] and list(r["result"]["network"]["ns1"]) == ["ep1"]'
expect 46 'r["ok"]'
expect 47 'r["ok"]'
expect 48 'r["ok"]'
expect 49 'r["result"]["uvm-a"]["network_adapters"] == {} and r["result"]["uvm-w"]["mapped_pipes"] == []'
expect 50 'r["ok"] and r["result"]["LUN"] == 0'
check_expectations

"$PY" - "$WORK/hcs.jsonl" "$WORK/bridge.jsonl" "$VECTORS" <<'PY' || fail "logs vs vectors"
import json, sys
hcs_log, bridge_log, vec = sys.argv[1:4]
def canon(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)
def vector(name):
    return open(vec + "/" + name, encoding="utf-8").read()
mods = [json.loads(l) for l in open(hcs_log) if json.loads(l)["call"] == "modify"]
reqs = [canon(m["request"]) for m in mods]
# With the engine's own bridge (LCOW) HCS gets only the host part ...
assert reqs[0] == vector("vpmem-add-lcow.hcs.json"), reqs[0]
assert reqs[1] == vector("plan9-add-lcow.hcs.json"), reqs[1]
# ... and HCS-forwarded WCOW shares are host-only requests.
vsmb = [r for r in reqs if "VirtualSmb/Shares" in r]
assert vsmb[0] == vector("vsmb-add-wcow.modify.json"), vsmb[0]
# The one SCSI disk of this scenario, with the same host part.
scsi = [r for r in reqs if "Devices/Scsi/" in r]
assert scsi == [vector("scsi-add-lcow.hcs.json")], scsi
# The guest part went over the bridge, byte for byte the vector's body.
frames = [json.loads(l) for l in open(bridge_log)]
# The connection starts with the negotiation, as hcsshim's does.
assert frames[0]["type"] == "Request(NegotiateProtocol)" and frames[0]["id"] == 0, frames[0]
assert frames[0]["body"] == vector("negotiate-protocol-request.body.json"), frames[0]
sent = [f for f in frames if f["vm"] == "uvm-a" and f["type"] == "Request(ModifySettings)"]
assert sent[0]["body"] == vector("vpmem-add-lcow.bridge-body.json"), sent[0]
assert sent[1]["body"] == vector("plan9-add-lcow.bridge-body.json"), sent[1]
assert sent[-1]["body"] == vector("scsi-add-lcow.bridge-body.json"), sent[-1]
# Each request has its response, with the same id.
recv = [f for f in frames if f["vm"] == "uvm-a" and f["type"] == "Response(ModifySettings)"]
assert sorted(f["id"] for f in recv) == sorted(f["id"] for f in sent)
assert any(f["type"] == "Response(NegotiateProtocol)" and json.loads(f["body"])["Version"] == 4 for f in frames)
PY
echo "devices scenario: ok"
