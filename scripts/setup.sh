#!/usr/bin/env bash
# One entry point for a fresh Debian bookworm machine (as root):
#   scripts/setup.sh demo      install what is missing, build, run `uvmctl demo`
#   scripts/setup.sh test      install what is missing, build, run every test
#   scripts/setup.sh asan      the unit and actor tests under ASan+UBSan
#                              (what CI runs after `test`)
#   scripts/setup.sh sanitize  the test suite again under ASan+UBSan, and
#                              under TSan what TSan can judge (see below)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake make g++ libcaf-dev libssl-dev openssl nlohmann-json3-dev libspdlog-dev libboost-dev catch2
          libcli11-dev prometheus-cpp-dev curl python3 clang libclang-rt-14-dev gnuplot-nox
          qemu-system-x86 qemu-utils e2fsprogs busybox-static kmod cpio xz-utils
          libsystemd-dev libacl1-dev acl pkg-config help2man dpkg-dev systemd libjemalloc-dev)
JOBS=${JOBS:-2}

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# build DIR [cmake args...]
build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > "$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; exit 1; }
  cmake --build "$dir" -j"$JOBS"
}

# The LCOW boot files for real VMs under QEMU (cached; needs the gcs binary).
boot_files() {
  scripts/boot-files.sh "$1/qemu/LinuxBootFiles" "$1/gcs"
}

run_tests() {
  local dir=$1
  (cd "$dir" && ctest --output-on-failure -j"$JOBS" --timeout 300)
}

# Sanitized code runs about ten times slower: the randomized device run
# takes 20,000 steps here instead of 100,000, within its time limit.
# tests/lsan.supp names the one leak that is CAF's own (see there).
asan_env() {
  export UVM_RANDOM_STEPS=20000 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
}

mode=${1:-demo}
case "$mode" in
  demo)
    install_missing
    build build
    ./build/uvmctl demo
    ;;
  test)
    install_missing
    build build
    boot_files build
    run_tests build
    ;;
  asan)
    install_missing
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUVM_SANITIZE=address \
      > build-asan.configure.log 2>&1 || { cat build-asan.configure.log; exit 1; }
    cmake --build build-asan -j"$JOBS" --target unit_tests actor_tests
    asan_env
    # Each test case in a process of its own, with its time limit; the
    # binaries' end-to-end, packaging, bench, fuzz and real-VM tests run in
    # `test`.
    (cd build-asan && ctest --output-on-failure -j"$JOBS" --timeout 600 \
      -E '^(e2e|fuzz|layering|packaging|bench)\.|qemu')
    ;;
  sanitize)
    install_missing
    build build-asan -DUVM_SANITIZE=address
    boot_files build-asan
    asan_env
    run_tests build-asan
    build build-tsan -DUVM_SANITIZE=thread
    boot_files build-tsan
    # Debian's libcaf_core is not built with TSan, so the hand-offs between
    # its worker threads are invisible to TSan and every actor test on the
    # threaded scheduler reports CAF-internal "races". TSan runs what it can
    # judge: the pure cores, the simulator and executors with their own
    # threads, the engine scheduler's own hand-offs (jobs that are not
    # actors), and the actor tests on CAF's single-threaded test coordinator.
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
    ./build-tsan/tests/unit_tests
    UVM_RANDOM_STEPS=20000 ./build-tsan/tests/actor_tests \
      "~[engine]~[pipelining]~[serialization]~[threaded]"
    ;;
  *)
    echo "usage: $0 demo|test|asan|sanitize" >&2
    exit 2
    ;;
esac
