#!/usr/bin/env bash
# Builds the LCOW boot files hcsshim expects in BootFilesPath, for real
# utility VMs under QEMU: `vmlinux` (the uncompressed kernel of Debian's
# linux-image-amd64, which boots seconds faster under TCG than the bzImage)
# and `initrd.img` (busybox, the kernel modules the guest needs with their
# modules.dep, and our guest agent `gcs` with its shared libraries, started
# by /init on the virtio-serial port named "gcs").
#
#   scripts/boot-files.sh OUT_DIR GCS_BINARY
#
# Installs what it needs with apt when missing (root). Idempotent: the
# result is kept while the kernel package, the agent and this script are
# unchanged. Nothing binary is committed; everything comes from Debian.
set -euo pipefail
out=$1
gcs=$2
here="$(cd "$(dirname "$0")" && pwd)"

need=()
for pair in busybox:busybox-static depmod:kmod cpio:cpio xz:xz-utils; do
  command -v "${pair%%:*}" > /dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" > /dev/null
fi

pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "boot-files: no linux-image package for linux-image-amd64" >&2; exit 1; }
# Tests running side by side may ask at once: one builds, the others wait.
mkdir -p "$(dirname "$out")"
exec 9> "$out.lock"
flock 9
stamp="$pkg $(sha256sum "$gcs" "$here/boot-files.sh" | awk '{print $1}' | tr '\n' ' ')"
if [ -f "$out/vmlinux" ] && [ -f "$out/initrd.img" ] && [ "$(cat "$out/.stamp" 2> /dev/null)" = "$stamp" ]; then
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
(cd "$work" && apt-get download "$pkg" > /dev/null 2>&1) ||
  { echo "boot-files: apt-get download $pkg failed" >&2; exit 1; }
dpkg -x "$work"/*.deb "$work/pkg"
version=$(ls "$work/pkg/lib/modules")

# The bzImage carries the kernel as an xz stream: find it, unpack it.
vmlinuz="$work/pkg/boot/vmlinuz-$version"
offset=$(grep -abo $'\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
[ -n "$offset" ] || { echo "boot-files: no xz stream in $vmlinuz" >&2; exit 1; }
tail -c +$((offset + 1)) "$vmlinuz" | xz -dc --single-stream > "$work/vmlinux" 2> /dev/null || true
[ "$(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
  { echo "boot-files: the unpacked kernel is not an ELF file" >&2; exit 1; }

# The initramfs.
root="$work/initrd"
mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,etc,lib/modules}
cp "$(command -v busybox)" "$root/bin/busybox"
for app in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
done
modules=(virtio_pci virtio_console virtio_scsi sd_mod virtio_blk virtio_pmem nd_pmem ext4 dm_mod
  overlay 9p 9pnet_virtio button evdev crc32c_generic virtio_net virtio_mem)
mods="$work/pkg/lib/modules/$version"
depmod -b "$work/pkg" "$version"
for m in "${modules[@]}"; do
  modprobe -d "$work/pkg" -S "$version" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | sort -u | while read -r ko; do
  rel=${ko#"$work/pkg/lib/modules/$version/"}
  mkdir -p "$root/lib/modules/$version/$(dirname "$rel")"
  cp "$ko" "$root/lib/modules/$version/$rel"
done
cp "$mods"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$version/"
depmod -b "$root" "$version"
cp "$gcs" "$root/bin/gcs"
ldd "$gcs" | awk '/=> \// {print $3} /^\t\// {print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# Hot-added processors stay offline until someone onlines them, and the
# guest has no udev: busybox's uevent runs this for every kernel event.
cat > "$root/bin/online-cpu" <<'HOTPLUG'
#!/bin/sh
[ "$ACTION" = add ] && [ "$SUBSYSTEM" = cpu ] && [ -w "/sys$DEVPATH/online" ] &&
  echo 1 > "/sys$DEVPATH/online"
exit 0
HOTPLUG
chmod +x "$root/bin/online-cpu"
cat > "$root/init" <<INIT
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${modules[*]}; do modprobe \$m 2> /dev/null; done
# After the modules: their boot-time events need no helper.
uevent /bin/online-cpu &
# The virtio-serial ports of the bridge ("gcs"), of process stdio
# ("stdio", multiplexed: there is no vsock) and of the agent's log ("log").
port=
stdio=
log=
for i in \$(seq 100); do
  for f in /sys/class/virtio-ports/*/name; do
    [ -r "\$f" ] || continue
    case "\$(cat "\$f")" in
      gcs) port=/dev/\$(basename "\$(dirname "\$f")") ;;
      stdio) stdio=/dev/\$(basename "\$(dirname "\$f")") ;;
      log) log=/dev/\$(basename "\$(dirname "\$f")") ;;
    esac
  done
  [ -n "\$port" ] && break
  sleep 0.1
done
stdio_flag=
[ -n "\$stdio" ] && stdio_flag="--stdio-port \$stdio"
log_flag=
[ -n "\$log" ] && log_flag="--log-port \$log"
# Shutdown is the ACPI power button: power off when it is pressed.
for f in /sys/class/input/event*/device/name; do
  if [ -r "\$f" ] && [ "\$(cat "\$f")" = "Power Button" ]; then
    button=/dev/input/\$(basename "\$(dirname "\$(dirname "\$f")")")
    (head -c 1 "\$button" > /dev/null && echo "init: power button" > /dev/console && sync &&
      poweroff -f) &
  fi
done
if [ -z "\$port" ]; then
  echo "init: no virtio-serial port named gcs" > /dev/console
else
  echo "init: gcs serves the bridge on \$port" > /dev/console
  mkdir -p /run/gcs
  # One connection per run of the agent; reading the port ends while no
  # host is connected, so the agent starts again until the host asks for
  # a shutdown (exit 3). A virtio port opens once: one descriptor for both
  # directions.
  while :; do
    /bin/gcs --stdio --mounts real --stdio-dir /run/gcs \$stdio_flag \$log_flag 0<> "\$port" 1>&0 2> /dev/console
    [ \$? = 3 ] && break
    sleep 0.2
  done
  echo "init: the host shut the VM down" > /dev/console
fi
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.img"
mv "$work/vmlinux" "$out/vmlinux"
mv "$work/initrd.img" "$out/initrd.img"
echo "$stamp" > "$out/.stamp"
echo "boot-files: $out/vmlinux ($version) and $out/initrd.img"
