# Our guest agent inside a real utility VM: QEMU (always TCG) boots the
# boot files of scripts/boot-files.sh, /init starts `gcs` on the
# virtio-serial port named "gcs", and the engine (simulated HCS for the host
# side) reaches it with the guest "unix:PATH" through QEMU's chardev socket:
# negotiation, capabilities, a Plan9 share the agent mounts for real (QEMU
# declares the share at launch, where the QEMU backend would hot-plug it),
# and a process whose output on the VM's console shows the guest's own
# kernel and the share's file. No QEMU backend yet: the VM is started
# here, not by the engine.
source "$(dirname "$0")/lib.bash"
BUILD="$(cd "$(dirname "$UVMCTL")" && pwd)"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
if ! command -v qemu-system-x86_64 > /dev/null; then
  echo "SKIP: qemu-system-x86_64 is not installed (scripts/setup.sh installs it)"
  exit 77
fi
BOOT="$BUILD/qemu/LinuxBootFiles"
"$ROOT/scripts/boot-files.sh" "$BOOT" "$BUILD/gcs" > /dev/null || fail "boot files"
mkdir -p "$WORK/share"
echo shared-from-the-host > "$WORK/share/note.txt"
qemu-system-x86_64 -accel tcg -machine pc -bios /usr/share/qemu/qboot.rom -m 256 \
  -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$BOOT/vmlinux" -initrd "$BOOT/initrd.img" \
  -append "console=ttyS0 panic=-1 quiet mitigations=off cryptomgr.notests i8042.noaux i8042.nokbd i8042.nopnp 8250.nr_uarts=1 no_timer_check tsc=reliable" \
  -serial "file:$WORK/console.log" \
  -device virtio-serial-pci \
  -chardev "socket,id=gcs,path=$WORK/gcs.sock,server=on,wait=off" \
  -device virtserialport,chardev=gcs,name=gcs \
  -fsdev "local,id=fs0,path=$WORK/share,security_model=none" \
  -device virtio-9p-pci,fsdev=fs0,mount_tag=0,addr=0x7 > "$WORK/qemu.log" 2>&1 &
QEMU=$!
trap 'kill $QEMU 2> /dev/null; wait $QEMU 2> /dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
  [ -S "$WORK/gcs.sock" ] && break
  kill -0 $QEMU 2> /dev/null || fail "qemu exited: $(cat "$WORK/qemu.log")"
  sleep 0.1
done
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"real-guest","BootFilesPath":"$BOOT","KernelFile":"vmlinux"}}
{"op":"start","vm":"a"}
{"op":"capabilities","vm":"a"}
{"op":"add_plan9","vm":"a","host_path":"$WORK/share","uvm_path":"/run/share","read_only":true}
{"op":"create_process","vm":"a","args":["sh","-c","echo guest-kernel-\$(uname -r) \$(cat /run/share/note.txt) > /dev/console"],"detach":true,"name":"p"}
{"op":"wait_process","vm":"a","process":"p"}
{"op":"close","vm":"a"}
JSONL
run_scenario "$WORK/s.jsonl" --guest "unix:$WORK/gcs.sock"
expect 3 'r["ok"] and r["result"]["protocol"] == 4'
expect 4 'r["ok"] and r["result"]["Name"] == "0"'
expect 5 'r["ok"] and r["result"]["pid"] > 0'
expect 6 'r["ok"] and r["result"]["exit_code"] == 0'
expect 7 'r["ok"]'
check_expectations
guest_kernel=$(awk '{print $1}' "$BOOT/.stamp" | sed 's/^linux-image-//')
grep -q "guest-kernel-$guest_kernel shared-from-the-host" "$WORK/console.log" ||
  fail "the process did not run in the VM (console: $(tail -5 "$WORK/console.log"))"
[ "$guest_kernel" != "$(uname -r)" ] || echo "note: host and guest run the same kernel release"
echo "qemu_guest: ok (gcs in a QEMU VM, kernel $guest_kernel)"
