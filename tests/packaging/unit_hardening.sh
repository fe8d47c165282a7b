#!/usr/bin/env bash
# The mount-level hardening of dist/systemd/uvmd.service, rebuilt in a
# private mount namespace (unshare -m; nothing outside it changes): a
# read-only root (ProtectSystem=strict), a private /tmp (PrivateTmp=),
# empty /home and /root (ProtectHome=) and no_new_privs
# (NoNewPrivileges=). The in-process guest's sandbox must still run a
# process there. The options the unit leaves out on purpose break it,
# as the unit's comment says: a covered /usr/lib/modules
# (ProtectKernelModules=) and a covered /proc/sys (ProtectKernelTunables=).
# Needs root and unshare; systemd itself is not involved.
#   unit_hardening.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC=$1
BUILD=$2
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mount namespaces, the sandbox's ids)"; exit 77; }
command -v unshare > /dev/null && command -v setpriv > /dev/null || { echo "SKIP: no unshare/setpriv"; exit 77; }
unshare -m true 2> /dev/null || { echo "SKIP: cannot make a mount namespace here"; exit 77; }
grep -qx 'ProtectSystem=strict' "$SRC/dist/systemd/uvmd.service" || fail "the unit changed: ProtectSystem"
! grep -q '^ProtectKernelModules=yes' "$SRC/dist/systemd/uvmd.service" || fail "the unit sets ProtectKernelModules"
! grep -q '^ProtectKernelTunables=yes' "$SRC/dist/systemd/uvmd.service" || fail "the unit sets ProtectKernelTunables"

# Outside /tmp, which the namespace replaces.
WORK=$(mktemp -d -p /dev/shm 2> /dev/null || mktemp -d -p /var/tmp)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/boot" "$WORK/build"
echo kernel > "$WORK/boot/kernel"
echo initrd > "$WORK/boot/initrd.img"
printf '%s\n' "{\"op\":\"create_lcow\",\"vm\":\"a\",\"options\":{\"BootFilesPath\":\"$WORK/boot\"}}" \
  '{"op":"start","vm":"a"}' \
  '{"op":"create_process","vm":"a","args":["sh","-c","id -u; test -d /proc/self && echo proc"]}' > "$WORK/p.jsonl"

# run_hardened EXTRA: the scenario's create_process line under the unit's
# mount settings plus EXTRA (shell run in the namespace first).
run_hardened() {
  unshare -m --propagation private bash -c "set -e
    $1
    # The build tree may be under /tmp, which PrivateTmp= replaces.
    mount --bind '$BUILD' '$WORK/build'
    mount -o remount,bind,ro /
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    mount -t tmpfs tmpfs /home
    mount -t tmpfs tmpfs /root
    cd /tmp
    setpriv --no-new-privs '$WORK/build/uvmctl' run '$WORK/p.jsonl'" | sed -n 3p
}
out=$(run_hardened true)
[[ $out == *'"ok":true'*'"stdout":"65534\nproc\n"'* ]] || fail "the sandbox under the unit's hardening: $out"
out=$(run_hardened "mkdir -p /usr/lib/modules; mount -t tmpfs -o ro,mode=000 tmpfs /usr/lib/modules")
[[ $out == *'bind-mount /usr read-only: invalid argument'* ]] || fail "a covered /usr/lib/modules: $out"
out=$(run_hardened "mount --bind /proc/sys /proc/sys; mount -o remount,bind,ro /proc/sys")
[[ $out == *"proc on /proc: operation not permitted"* ]] || fail "a covered /proc/sys: $out"
echo "hardening: the sandbox runs under the unit's mount settings and no_new_privs; ProtectKernelModules/Tunables would break it"
