# VPMEM multi-mapping on a real guest: with VPMemNoMultiMapping false, 8
# small ext4 layers are packed into one virtio-pmem device (the first adds
# the device, the rest are mappings copied into its pack file at their
# offsets); the guest mounts each through a dm-linear device over its range
# of /dev/pmem0 and a process reads every layer's files back (checksums of
# a random file, compared with the host's). Removing one layer unmounts it
# and removes its dm device; the other seven stay readable.
source "$(dirname "$0")/lib.bash"
qemu_boot_files

expected=()
sizes=(2M 3M 2M 5M 2M 3M 2M 4M) # the first adds the device: a 2 MiB multiple (notes/qemu.md)
for i in $(seq 0 7); do
  mkdir -p "$WORK/src/l$i"
  echo "layer $i" > "$WORK/src/l$i/id.txt"
  head -c $((200000 + i * 4096)) /dev/urandom > "$WORK/src/l$i/data.bin"
  mkfs.ext4 -q -d "$WORK/src/l$i" "$WORK/l$i.img" "${sizes[$i]}"
  expected+=("layer $i $(md5sum < "$WORK/src/l$i/data.bin" | cut -d' ' -f1)")
done
py_list() {
  local out="[" item
  for item in "$@"; do out+="\"$item\","; done
  echo "$out]"
}
all=$(py_list "${expected[@]}")
without3=$(py_list "${expected[@]:0:3}" "${expected[@]:4}")

read_layers='for d in /run/layers/p0-*; do echo "$(cat $d/id.txt) $(md5sum < $d/data.bin | cut -d" " -f1)"; done'
cat > "$WORK/s.jsonl" <<JSONL
{"op":"create_lcow","vm":"a","options":{"ID":"qemu-packed","BootFilesPath":"$BOOT","MemorySizeInMB":512,"ProcessorCount":1,"VPMemDeviceCount":2,"VPMemSizeBytes":67108864,"VPMemNoMultiMapping":false}}
{"op":"start","vm":"a"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/l0.img"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/l1.img"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/l2.img"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/l3.img"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/l4.img"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/l5.img"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/l6.img"}
{"op":"add_vpmem","vm":"a","host_path":"$WORK/l7.img"}
{"op":"create_process","vm":"a","args":["sh","-c",$(printf '%s' "$read_layers" | "$PY" -c 'import json,sys; print(json.dumps(sys.stdin.read()))')]}
{"op":"create_process","vm":"a","args":["sh","-c","ls /dev/mapper | grep -c dm-linear-pmem0-"]}
{"op":"remove_vpmem","vm":"a","host_path":"$WORK/l3.img"}
{"op":"create_process","vm":"a","args":["sh","-c",$(printf '%s' "$read_layers" | "$PY" -c 'import json,sys; print(json.dumps(sys.stdin.read()))')]}
{"op":"create_process","vm":"a","args":["sh","-c","ls /dev/mapper | grep -c dm-linear-pmem0-; ls /run/layers | wc -l"]}
{"op":"terminate","vm":"a"}
{"op":"wait","vm":"a"}
{"op":"close","vm":"a"}
JSONL
run_scenario "$WORK/s.jsonl" --backend qemu
expect 2 'r["ok"]'
# Page-aligned ranges one after another on device 0: 2, 3, 2, 5, ... MiB.
offset=0
for i in $(seq 0 7); do
  size=$((${sizes[$i]%M} * 1048576))
  expect $((i + 3)) "r[\"ok\"] and r[\"result\"] == \"/run/layers/p0-$offset-$size\""
  offset=$((offset + size))
done
expect 11 "r[\"ok\"] and r[\"result\"][\"exit_code\"] == 0 and sorted(r[\"result\"][\"stdout\"].splitlines()) == sorted($all)"
expect 12 'r["ok"] and r["result"]["stdout"] == "8\n"'
expect 13 'r["ok"]'
expect 14 "r[\"ok\"] and r[\"result\"][\"exit_code\"] == 0 and sorted(r[\"result\"][\"stdout\"].splitlines()) == sorted($without3)"
expect 15 'r["ok"] and r["result"]["stdout"] == "7\n7\n"'
expect 16 'r["ok"]'
expect 17 'r["ok"]'
check_expectations
