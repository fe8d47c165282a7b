#!/usr/bin/env bash
# The installed package, not the build tree: `cmake --install` into a fresh
# prefix; examples/host_agent configured with only that prefix to find
# uvm_engine, built, and run embedded and against the installed uvmd; the
# public headers compiled and the agent linked through pkg-config alone.
#   install_prefix.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC=$1
BUILD=$2
WORK=$(mktemp -d)
UVMD_PID=
cleanup() {
  [ -n "$UVMD_PID" ] && kill -9 "$UVMD_PID" 2> /dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
PREFIX=$WORK/prefix
# --strip: the binaries and archives without their debug sections (a tenth
# of the size).
cmake --install "$BUILD" --prefix "$PREFIX" --strip > "$WORK/install.log" || { cat "$WORK/install.log"; fail "install"; }
for f in lib/cmake/uvm_engine/uvm_engineConfig.cmake lib/cmake/uvm_engine/uvm_engineConfigVersion.cmake \
  lib/pkgconfig/uvm_engine.pc lib/libuvm_engine.a include/uvm_engine/engine/engine.hpp bin/uvmd; do
  [ -e "$PREFIX/$f" ] || fail "not installed: $f"
done

# The example finds the engine under the prefix only (no package registry,
# no build tree).
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$SRC/examples/host_agent" -B "$WORK/agent" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  > "$WORK/agent.configure.log" 2>&1 || { cat "$WORK/agent.configure.log"; fail "configure the example"; }
found=$(sed -n 's/^uvm_engine_DIR:PATH=//p' "$WORK/agent/CMakeCache.txt")
[ "$found" = "$PREFIX/lib/cmake/uvm_engine" ] || fail "uvm_engine found in '$found', not the prefix"
cmake --build "$WORK/agent" -j2 > "$WORK/agent.build.log" 2>&1 || { cat "$WORK/agent.build.log"; fail "build the example"; }

check_agent() {
  local out=$1
  grep -q '^created ' "$out" || fail "no VM created: $(cat "$out")"
  grep -q '^scsi .* at controller 0 lun 0$' "$out" || fail "no SCSI disk: $(cat "$out")"
  grep -q '^process [0-9]* exited 0: hello from the guest$' "$out" || fail "no process: $(cat "$out")"
  grep -q '^vm_exited .* unexpected=true exit_error=.*exited unexpectedly' "$out" ||
    fail "no vm_exited event: $(cat "$out")"
}
"$WORK/agent/host_agent" > "$WORK/embedded.out" 2> "$WORK/embedded.err" ||
  { cat "$WORK/embedded.out" "$WORK/embedded.err"; fail "host_agent (embedded) exited $?"; }
check_agent "$WORK/embedded.out"

# The same agent against the installed uvmd.
"$PREFIX/bin/uvmd" --listen 127.0.0.1:0 --insecure-plaintext > "$WORK/uvmd.out" 2> "$WORK/uvmd.log" &
UVMD_PID=$!
for _ in $(seq 1 100); do
  grep -q '^listening ' "$WORK/uvmd.out" && break
  sleep 0.05
done
addr=$(sed -n 's/^listening //p' "$WORK/uvmd.out")
[ -n "$addr" ] || { cat "$WORK/uvmd.log"; fail "the installed uvmd did not listen"; }
"$WORK/agent/host_agent" --node "$addr" --insecure-plaintext > "$WORK/remote.out" 2> "$WORK/remote.err" ||
  { cat "$WORK/remote.out" "$WORK/remote.err"; fail "host_agent --node exited $?"; }
check_agent "$WORK/remote.out"
grep -q "^created .* on $addr$" "$WORK/remote.out" || fail "the VM was not created on the node"
kill "$UVMD_PID"
wait "$UVMD_PID" || fail "uvmd exited $? on SIGTERM"
UVMD_PID=

# pkg-config: every installed header compiles with its --cflags alone, and
# its --libs link the agent.
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
[ "$(pkg-config --modversion uvm_engine)" = "$(sed -n 's/^Version: //p' "$PREFIX/lib/pkgconfig/uvm_engine.pc")" ] ||
  fail "pkg-config does not read uvm_engine.pc"
(cd "$PREFIX/include/uvm_engine" && find . -name '*.hpp' | sort | sed 's|^\./\(.*\)|#include "\1"|') > "$WORK/all_headers.cpp"
[ "$(wc -l < "$WORK/all_headers.cpp")" -gt 20 ] || fail "too few headers installed"
# shellcheck disable=SC2046
g++ -fsyntax-only $(pkg-config --cflags uvm_engine) "$WORK/all_headers.cpp" ||
  fail "the installed headers do not compile on their own"
object=$(find "$WORK/agent" -name 'main.cpp.o' | head -n 1)
# shellcheck disable=SC2046
g++ -o "$WORK/agent-pc" "$object" $(pkg-config --libs uvm_engine) || fail "link with pkg-config --libs"
"$WORK/agent-pc" > "$WORK/pc.out" 2>&1 || { cat "$WORK/pc.out"; fail "the pkg-config build exited $?"; }
check_agent "$WORK/pc.out"
cat "$WORK/embedded.out" "$WORK/remote.out"
echo "installed package: example built against $PREFIX and run embedded and on $addr; pkg-config ok"
