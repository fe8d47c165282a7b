# Real utility VMs: the engine runs an LCOW VM on the QEMU backend (TCG)
# with our gcs inside, and every device lands in the guest for real:
# a VHDX made here is attached over SCSI, mounted and read back with `cat`;
# a file written on a read-write disk is found in the host image after the
# disk was removed; an ext4 layer is read through VPMEM; a host folder is
# read through Plan9; two layers are combined into an overlay in which a
# container runs; the VM's memory and processor count grow and shrink as a
# guest process sees them; terminate and wait end the VM. A second VM's QEMU is
# killed while a call waits: an unexpected exit, the call failed, and the
# supervisor restarts it on its restart policy. A third
# gets a network adapter and is shut down through its ACPI power button.
# QEMU runs as an unprivileged uid in a cgroup of its own: a disk it writes
# is granted to it (vm_access) with an ACL entry that is there while the
# disk is attached and gone after its removal; a grant that fails says so.
source "$(dirname "$0")/lib.bash"
qemu_boot_files
# QEMU (not root) must reach the images here; read-write ones are granted.
chmod 755 "$WORK"

# Host images: ext4 made from folders (no mount on the host).
mkdir -p "$WORK/src/disk" "$WORK/src/layer1/bin" "$WORK/src/layer2/etc" "$WORK/share" "$WORK/empty"
echo "hello from a vhdx" > "$WORK/src/disk/hello.txt"
echo "hello from a pmem layer" > "$WORK/src/layer1/layer.txt"
cp "$(command -v busybox)" "$WORK/src/layer1/bin/busybox"
ln -s busybox "$WORK/src/layer1/bin/sh"
ln -s busybox "$WORK/src/layer1/bin/cat"
echo "upper layer wins" > "$WORK/src/layer2/etc/motd"
echo "lower layer" > "$WORK/src/layer1/motd-lower"
echo "hello from the host over 9p" > "$WORK/share/note.txt"
mkfs.ext4 -q -d "$WORK/src/disk" "$WORK/disk.raw" 16M
qemu-img convert -O vhdx "$WORK/disk.raw" "$WORK/disk.vhdx"
mkfs.ext4 -q -d "$WORK/empty" "$WORK/rw.raw" 16M
mkfs.ext4 -q -d "$WORK/src/layer1" "$WORK/layer1.img" 8M
mkfs.ext4 -q -d "$WORK/src/layer2" "$WORK/layer2.img" 4M
mkfs.ext4 -q -d "$WORK/empty" "$WORK/scratch.raw" 16M

# What a guest process sees of its VM's size: MemTotal in kB, nproc and the
# online processors, once nproc is the count given (if any; the guest's
# /init onlines a hot-added processor a moment after its ACPI answer).
GUEST_SIZE=$(
  cat <<'SH'
n=$1; for i in $(seq 100); do [ -z $n ] || [ $(nproc) = $n ] && break; sleep 0.1; done; echo $(awk '/MemTotal/ {print $2}' /proc/meminfo) $(nproc) $(cat /sys/devices/system/cpu/online)
SH
)
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"qemu-a","BootFilesPath":"$BOOT","MemorySizeInMB":512,"ProcessorCount":1}}
{"op":"start","vm":"a"}
{"op":"add_scsi","vm":"a","host_path":"$WORK/disk.vhdx","uvm_path":"/run/disk","read_only":true}
{"op":"create_process","vm":"a","args":["cat","/run/disk/hello.txt"]}
{"op":"add_scsi","vm":"a","host_path":"$WORK/rw.raw","uvm_path":"/run/rw","vm_access":"individual"}
{"op":"create_process","vm":"a","args":["sh","-c","echo written-in-the-guest > /run/rw/out.txt && sync"]}
{"op":"remove_scsi","vm":"a","host_path":"$WORK/rw.raw"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/layer1.img"}
{"op":"create_process","vm":"a","args":["cat","/run/layers/p0/layer.txt"]}
{"op":"add_plan9","vm":"a","host_path":"$WORK/share","uvm_path":"/run/share","read_only":true}
{"op":"create_process","vm":"a","args":["cat","/run/share/note.txt"]}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/layer2.img"}
{"op":"add_scsi","vm":"a","host_path":"$WORK/scratch.raw","uvm_path":"/run/scratch","vm_access":"group"}
{"op":"combine_layers_lcow","vm":"a","layer_paths":["/run/layers/p1","/run/layers/p0"],"scratch_path":"/run/scratch","rootfs_path":"/run/gcs/c/c1/rootfs"}
{"op":"create_container","vm":"a","id":"c1","settings":{"SchemaVersion":{"Major":2,"Minor":1},"OciBundlePath":"/run/gcs/c/c1","OciSpecification":{"root":{"path":"/run/gcs/c/c1/rootfs"},"process":{"args":["/bin/sh"],"cwd":"/","env":["PATH=/bin"]}}}}
{"op":"create_process","vm":"a","container_id":"c1","args":["sh","-c","cat /etc/motd /motd-lower; ls /"]}
{"op":"create_process","vm":"a","args":["sh","-c","$GUEST_SIZE","size"]}
{"op":"update_memory","vm":"a","memory_mb":1536}
{"op":"update_cpu_limits","vm":"a","count":3}
{"op":"create_process","vm":"a","args":["sh","-c","$GUEST_SIZE","size","3"]}
{"op":"update_memory","vm":"a","memory_mb":768}
{"op":"update_cpu_limits","vm":"a","count":2}
{"op":"create_process","vm":"a","args":["sh","-c","$GUEST_SIZE","size","2"]}
{"op":"update_memory","vm":"a","bytes":268435456}
{"op":"update_cpu_limits","vm":"a","weight":100}
{"op":"info","vm":"a"}
{"op":"add_scsi","vm":"a","host_path":"$WORK/missing.vhdx","vm_access":"individual"}
{"op":"terminate","vm":"a"}
{"op":"wait","vm":"a"}
{"op":"exit_error","vm":"a"}
{"op":"close","vm":"a"}
JSONL
run_scenario "$WORK/s.jsonl" --backend qemu
expect 2 'r["ok"]'
expect 3 'r["ok"] and r["result"]["Controller"] == 0'
expect 4 'r["ok"] and r["result"]["stdout"] == "hello from a vhdx\n" and r["result"]["exit_code"] == 0'
expect 5 'r["ok"] and r["result"]["LUN"] == 1'
expect 6 'r["ok"] and r["result"]["exit_code"] == 0'
expect 7 'r["ok"]'
expect 8 'r["ok"] and r["result"] == "/run/layers/p0"'
expect 9 'r["ok"] and r["result"]["stdout"] == "hello from a pmem layer\n"'
expect 10 'r["ok"]'
expect 11 'r["ok"] and r["result"]["stdout"] == "hello from the host over 9p\n"'
expect 12 'r["ok"] and r["result"] == "/run/layers/p1"'
expect 13 'r["ok"]'
expect 14 'r["ok"]'
expect 15 'r["ok"]'
expect 16 'r["ok"] and r["result"]["stdout"].startswith("upper layer wins\nlower layer\n") and "layer.txt" in r["result"]["stdout"]'
# Live resizing: memory through virtio-mem above the 512 MB boot size,
# processors hot-added and removed; MemTotal moves by what was asked.
expect 17 'r["ok"] and r["result"]["stdout"].split()[1:] == ["1", "0"]'
expect 18 'r["ok"]'
expect 19 'r["ok"]'
expect 20 'r["ok"] and r["result"]["stdout"].split()[1:] == ["3", "0-2"]'
expect 21 'r["ok"]'
expect 22 'r["ok"]'
expect 23 'r["ok"] and r["result"]["stdout"].split()[1:] == ["2", "0-1"]'
expect 24 'not r["ok"] and "memory size 256 MB is below the VM'"'"'s boot size of 512 MB" in r["error"]'
expect 25 'not r["ok"] and "the qemu backend cannot apply processor limits (Weight 100)" in r["error"]'
expect 26 'r["ok"] and r["result"]["memory_size_in_mb"] == 768 and r["result"]["processor_count"] == 2'
expect 27 'not r["ok"] and r["error"] == "failed to grant VM access for SCSI mount: getfacl '"$WORK"'/missing.vhdx: no such file or directory"'
expect 28 'r["ok"]'
expect 29 'r["ok"]'
expect 30 'r["ok"] and r["result"] is None'
check_expectations
"$PY" - "$OUT" <<'PY' || fail "MemTotal did not follow the memory size"
import json, sys
lines = {json.loads(l)["line"]: json.loads(l) for l in open(sys.argv[1])}
kb = [int(lines[n]["result"]["stdout"].split()[0]) for n in (17, 20, 23)]
# Grown by 1024 MB, then shrunk to 256 MB above the boot size (1 MB slack).
if abs(kb[1] - kb[0] - 1024 * 1024) > 1024 or abs(kb[2] - kb[0] - 256 * 1024) > 1024:
    sys.exit("MemTotal (kB) at 512, 1536 and 768 MB: %s" % kb)
PY
qemu-img convert -O raw "$WORK/rw.raw" "$WORK/rw.check" 2> /dev/null || cp "$WORK/rw.raw" "$WORK/rw.check"
[ "$(debugfs -R 'cat /out.txt' "$WORK/rw.check" 2> /dev/null)" = "written-in-the-guest" ] ||
  fail "the guest's write is not on the host image"

# QEMU killed under a waiting call: an unexpected exit, the call failed,
# the supervisor's record names the kill, and its restart policy brings up
# a new VM in which a process runs and the disk attached before the kill
# is back at the same path (desired-state restart).
cat > "$WORK/k.jsonl" <<JSONL
{"op":"create_lcow","vm":"k","options":{"ID":"qemu-k","BootFilesPath":"$BOOT","MemorySizeInMB":512,"ProcessorCount":1},"restart_policy":{"policy":"on-failure","max_restarts":1,"backoff_ms":10}}
{"op":"start","vm":"k"}
{"op":"add_scsi","vm":"k","host_path":"$WORK/k.raw","vm_access":"individual"}
{"op":"sleep","ms":3000}
{"op":"remove_scsi","vm":"k","host_path":"$WORK/k.raw"}
{"op":"sleep","ms":3000}
{"op":"add_scsi","vm":"k","host_path":"$WORK/disk.vhdx","uvm_path":"/run/disk","read_only":true}
{"op":"create_process","vm":"k","args":["sleep","600"],"detach":true,"name":"p"}
{"op":"wait_process","vm":"k","process":"p"}
{"op":"sleep","ms":4000}
{"op":"create_process","vm":"k","args":["echo","after the restart"]}
{"op":"create_process","vm":"k","args":["cat","/run/disk/hello.txt"]}
{"op":"info","vm":"k"}
{"op":"exits"}
{"op":"terminate","vm":"k"}
{"op":"close","vm":"k"}
JSONL
mkfs.ext4 -q -d "$WORK/empty" "$WORK/k.raw" 8M
"$UVMCTL" run --backend qemu "$WORK/k.jsonl" > "$WORK/k.out" 2> "$WORK/k.err" &
runner=$!
# Waits until the runner has answered line $1.
answered() {
  for _ in $(seq 600); do
    grep -q "\"line\":$1," "$WORK/k.out" 2> /dev/null && return 0
    sleep 0.1
  done
  fail "no answer to line $1 ($(cat "$WORK/k.out"))"
}
answered 3
pid=$(pgrep -f "uvm-qemu-$runner/qemu-k\.[0-9]*/qmp.sock" | head -1)
[ -n "$pid" ] || fail "no QEMU process for qemu-k ($(cat "$WORK/k.out"))"
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$uid" != 0 ] || fail "QEMU runs as root"
# Confined for good: no way back to root through an exec.
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status" || fail "QEMU may gain privileges"
getfacl -n "$WORK/k.raw" 2> /dev/null | grep -qx "user:$uid:rw-" ||
  fail "no ACL entry for QEMU's uid $uid while attached: $(getfacl -n "$WORK/k.raw" 2>&1)"
cgroup=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
if [ -n "$(ls /sys/fs/cgroup/uvm /sys/fs/cgroup/unified/uvm 2> /dev/null)" ]; then
  [[ "$cgroup" == /uvm/*-qemu-k.* ]] || fail "QEMU is not in a cgroup of its own: $cgroup"
  owned="$cgroup"
else
  echo "qemu_backend: no writable cgroup v2 hierarchy here; QEMU's cgroup is $cgroup"
fi
answered 5
getfacl -n "$WORK/k.raw" 2> /dev/null | grep -q "^user:$uid:" &&
  fail "the ACL entry outlived remove_scsi: $(getfacl -n "$WORK/k.raw")"
answered 8
sleep 0.5
kill -9 "$pid"
wait $runner || fail "uvmctl run failed"
OUT="$WORK/k.out"
expect 3 'r["ok"]'
expect 5 'r["ok"]'
expect 7 'r["ok"]'
expect 8 'r["ok"]'
# The waiting call fails with the lost bridge or the exit, whichever the
# engine hears first.
expect 9 'not r["ok"] and ("bridge closed" in r["error"] or "exited unexpectedly" in r["error"])'
expect 11 'r["ok"] and r["result"]["stdout"] == "after the restart\n"'
expect 12 'r["ok"] and r["result"]["stdout"] == "hello from a vhdx\n"'
expect 13 'r["ok"] and r["result"]["restarts"] == 1 and r["result"]["state"] == "running"'
expect 14 'r["ok"] and len(r["result"]) == 1 and r["result"][0]["unexpected"] and "QEMU exited on its own (killed by signal 9" in r["result"][0]["exit_error"]'
expect 15 'r["ok"]'
check_expectations
# The VM's cgroup goes with its QEMU.
if [ -n "${owned:-}" ]; then
  for root in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    [ ! -d "$root$owned" ] || fail "cgroup $root$owned left behind"
  done
fi

# Default options find the boot files. A network endpoint is a real virtio-net NIC with the endpoint's MAC
# (QEMU's user-mode network behind it). Shutdown presses the ACPI power
# button; the guest powers off: an exit the host asked for.
cat > "$WORK/d.jsonl" <<JSONL
{"op":"create_lcow","vm":"d","options":{"ID":"qemu-d","MemorySizeInMB":512,"ProcessorCount":1}}
{"op":"start","vm":"d"}
{"op":"add_net_ns","vm":"d","id":"ns1"}
{"op":"add_endpoints_to_ns","vm":"d","id":"ns1","endpoints":[{"ID":"ep1","MacAddress":"00-15-5D-52-C0-07","IPAddress":"10.0.0.2","PrefixLength":24}]}
{"op":"create_process","vm":"d","args":["sh","-c","cat /sys/class/net/*/address"]}
{"op":"remove_endpoints_from_ns","vm":"d","id":"ns1","endpoints":["ep1"]}
{"op":"create_process","vm":"d","args":["sh","-c","cat /sys/class/net/*/address"]}
{"op":"shutdown","vm":"d"}
{"op":"wait","vm":"d"}
{"op":"exit_error","vm":"d"}
{"op":"close","vm":"d"}
JSONL
run_scenario "$WORK/d.jsonl" --backend qemu
expect 4 'r["ok"]'
expect 5 'r["ok"] and "00:15:5d:52:c0:07" in r["result"]["stdout"].split()'
expect 6 'r["ok"]'
expect 7 'r["ok"] and "00:15:5d:52:c0:07" not in r["result"]["stdout"]'
expect 8 'r["ok"]'
expect 10 'r["ok"] and r["result"] is None'
check_expectations
echo "qemu_backend: ok"
