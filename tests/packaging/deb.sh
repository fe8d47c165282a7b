#!/usr/bin/env bash
# The .deb: CPack builds it from the build tree; it is unpacked into a
# scratch root with `dpkg-deb -x` (the files only: no maintainer script
# runs and dpkg's database of this machine is not touched, which
# `dpkg --root` or `dpkg -i` would need root and a dpkg tree for), its
# control data and contents are checked, and the binaries run from there.
#   deb.sh BUILD_DIR
set -euo pipefail
BUILD=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
command -v cpack > /dev/null || { echo "SKIP: no cpack"; exit 77; }
command -v dpkg-deb > /dev/null || { echo "SKIP: no dpkg-deb"; exit 77; }
(cd "$BUILD" && cpack -G DEB -B "$WORK/pkg") > "$WORK/cpack.log" 2>&1 || { cat "$WORK/cpack.log"; fail "cpack"; }
DEB=$(find "$WORK/pkg" -maxdepth 1 -name 'uvm-engine_*_*.deb')
[ -f "$DEB" ] || fail "no .deb in $WORK/pkg"

# Control data: name, Depends from the linked libraries, the conffile and
# maintainer scripts that are valid shell.
[ "$(dpkg-deb -f "$DEB" Package)" = uvm-engine ] || fail "Package"
depends=$(dpkg-deb -f "$DEB" Depends)
for lib in libc6 libstdc++6 libcaf-core libcaf-io libcaf-openssl libssl3 libspdlog libsystemd0; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
# uvmd links jemalloc unless the build chose the system's allocator.
if ldd "$BUILD/uvmd" | grep -q libjemalloc; then
  [[ $depends == *libjemalloc2* ]] || fail "Depends lacks libjemalloc2: $depends"
fi
dpkg-deb -e "$DEB" "$WORK/control"
[ "$(cat "$WORK/control/conffiles")" = /etc/uvmd/uvmd.toml ] || fail "conffiles: $(cat "$WORK/control/conffiles")"
for script in postinst prerm postrm; do
  [ -x "$WORK/control/$script" ] || fail "$script is not executable"
  sh -n "$WORK/control/$script" || fail "$script is not valid sh"
done

dpkg-deb --contents "$DEB" | awk '{print $6}' | sed 's|^\./|/|' > "$WORK/contents"
for f in /usr/bin/uvmd /usr/bin/uvmctl /usr/bin/uvm-bench /usr/bin/gcs /etc/uvmd/uvmd.toml \
  /usr/lib/systemd/system/uvmd.service /usr/lib/libuvm_engine.a /usr/lib/libuvm_messages.a \
  /usr/lib/cmake/uvm_engine/uvm_engineConfig.cmake /usr/lib/cmake/uvm_engine/uvm_engineConfigVersion.cmake \
  /usr/lib/cmake/uvm_engine/uvm_engineTargets.cmake /usr/lib/cmake/uvm_engine/FindCAF.cmake \
  /usr/lib/pkgconfig/uvm_engine.pc /usr/include/uvm_engine/engine/engine.hpp \
  /usr/include/uvm_engine/engine/utility_vm.hpp /usr/include/uvm_engine/messages/events.hpp \
  /usr/share/man/man8/uvmd.8.gz /usr/share/man/man1/uvmctl.1.gz /usr/share/man/man1/uvm-bench.1.gz \
  /usr/share/man/man1/gcs.1.gz /usr/share/bash-completion/completions/uvmctl \
  /usr/share/bash-completion/completions/uvmd /usr/share/uvm-bench/profiles/soak.json \
  /usr/share/uvm-bench/profiles/hotplug-mix.json; do
  grep -qx "$f" "$WORK/contents" || fail "the .deb lacks $f"
done
# Nothing of the build or test tree.
if grep -E 'tests/|/build/|\.o$|actor_tests|unit_tests|remote_probe' "$WORK/contents"; then
  fail "the .deb holds build or test files"
fi

ROOT=$WORK/root
dpkg-deb -x "$DEB" "$ROOT"
want=$("$BUILD/uvmd" --version | sed 's/^uvmd //')
for tool in uvmd uvmctl uvm-bench gcs; do
  got=$("$ROOT/usr/bin/$tool" --version) || fail "$tool --version exited $?"
  [ "$got" = "$tool $want" ] || fail "$tool --version: '$got', want '$tool $want'"
done
# The unpacked uvmd runs with the packaged config (plaintext on a free
# loopback port instead of the TLS files an operator provides).
sed -e 's|^listen = .*|listen = "127.0.0.1:0"|' -e '/^\(cert\|key\|ca\) = /d' \
  -e 's|^metrics-listen = .*|metrics-listen = "127.0.0.1:0"|' \
  -e 's|^insecure-plaintext = .*|insecure-plaintext = true|' "$ROOT/etc/uvmd/uvmd.toml" > "$WORK/uvmd.toml"
"$ROOT/usr/bin/uvmd" --config "$WORK/uvmd.toml" > "$WORK/uvmd.out" 2> "$WORK/uvmd.log" &
pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening ' "$WORK/uvmd.out" && break
  sleep 0.05
done
addr=$(sed -n 's/^listening //p' "$WORK/uvmd.out")
[ -n "$addr" ] || { kill -9 $pid; cat "$WORK/uvmd.log"; fail "the packaged uvmd did not listen"; }
"$ROOT/usr/bin/uvmctl" --node "$addr" --insecure-plaintext list --json > "$WORK/list.json" ||
  { kill -9 $pid; fail "the packaged uvmctl could not list the packaged uvmd's VMs"; }
[ "$(cat "$WORK/list.json")" = "[]" ] || { kill -9 $pid; fail "list: $(cat "$WORK/list.json")"; }
kill $pid
wait $pid || fail "uvmd exited $? on SIGTERM"

# The man pages render, uvmctl's with the scenario ops.
if command -v man > /dev/null; then
  man -l "$ROOT/usr/share/man/man8/uvmd.8.gz" 2> /dev/null | grep -q -- '--listen' || fail "uvmd.8 lacks --listen"
  man -l "$ROOT/usr/share/man/man1/uvmctl.1.gz" 2> /dev/null | grep -q 'add_scsi' || fail "uvmctl.1 lacks the ops"
fi
echo "$(basename "$DEB"): $(stat -c %s "$DEB") bytes, $(wc -l < "$WORK/contents") entries"
