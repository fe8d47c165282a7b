# Helpers for the uvmctl end-to-end scripts (sourced; $1 = uvmctl binary).
set -euo pipefail
UVMCTL="$1"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Debian's interpreter: a version manager's shim can take a second to start.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# A host folder with LCOW boot files and a WCOW base layer.
make_host() {
  mkdir -p "$WORK/boot" "$WORK/layers/base/UtilityVM"
  echo kernel > "$WORK/boot/kernel"
  echo initrd > "$WORK/boot/initrd.img"
  echo vhdx > "$WORK/layers/base/UtilityVM/SystemTemplate.vhdx"
}

# run_scenario FILE [uvmctl run args...]: output lines go to $OUT.
run_scenario() {
  local file=$1
  shift
  OUT="$WORK/out.jsonl"
  "$UVMCTL" run "$file" "$@" > "$OUT" || fail "uvmctl run exited $?"
  # tests/e2e/remote_scenarios.sh sets UVM_E2E_UVMD (uvmd and its TLS
  # options) and UVM_E2E_CLIENT_TLS: the same file then also runs through
  # `uvmctl --node` on a uvmd started here (relative host paths are the
  # node's, in its working folder), and the output must be the embedded
  # runner's. The logs stay local; a run that picks its guest or backend
  # would need a node configured so, and stays local.
  if [ -n "${UVM_E2E_UVMD:-}" ] && [[ ! " $* " =~ " --guest "|" --backend " ]]; then
    remote_diff "$file"
  fi
}

# expect N EXPR: the Python expression over `r` (output line N) must hold;
# check_expectations evaluates them all in one interpreter run.
EXPECTATIONS=()
expect() {
  EXPECTATIONS+=("$1" "$2")
}
check_expectations() {
  "$PY" - "$OUT" "${EXPECTATIONS[@]}" <<'PY' || fail "scenario output"
import json, sys
lines = {}
for l in open(sys.argv[1]):
    d = json.loads(l)
    lines[d["line"]] = d
args = sys.argv[2:]
bad = 0
for n, expr in zip(args[0::2], args[1::2]):
    r = lines.get(int(n))
    if r is None or not eval(expr):
        print(f"line {n}: {expr}\n  got: {json.dumps(r)}", file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
PY
  EXPECTATIONS=()
}

# QEMU tests: skip (exit 77) where QEMU's tools are missing, else build the
# boot files (cached) into $BOOT, where `uvmctl run --backend qemu` looks.
qemu_boot_files() {
  local tool
  for tool in qemu-system-x86_64 qemu-img mkfs.ext4 debugfs; do
    if ! command -v $tool > /dev/null; then
      echo "SKIP: $tool is not installed (scripts/setup.sh installs it)"
      exit 77
    fi
  done
  local build
  build="$(cd "$(dirname "$UVMCTL")" && pwd)"
  BOOT="$build/qemu/LinuxBootFiles"
  "$(dirname "${BASH_SOURCE[0]}")/../../scripts/boot-files.sh" "$BOOT" "$build/gcs" > /dev/null ||
    fail "boot files"
}

# remote_diff FILE: runs FILE on a fresh uvmd over mutual TLS and compares
# with $OUT. What differs between any two runs, embedded or not, is
# masked: GUIDs, the simulated run time, pids, and the stacks of the
# engine's own threads (the in-process guest's dump_stacks).
remote_diff() {
  local file=$1 pid addr i
  # shellcheck disable=SC2086 # uvmd and its options
  $UVM_E2E_UVMD --listen 127.0.0.1:0 > "$WORK/uvmd.out" 2> "$WORK/uvmd.log" &
  pid=$!
  for i in $(seq 1 100); do
    addr=$(sed -n 's/^listening //p' "$WORK/uvmd.out" 2> /dev/null || true)
    [ -n "$addr" ] && break
    sleep 0.05
  done
  [ -n "$addr" ] || { kill -9 $pid; cat "$WORK/uvmd.log" >&2; fail "uvmd did not start"; }
  # shellcheck disable=SC2086
  "$UVMCTL" --node "$addr" $UVM_E2E_CLIENT_TLS run "$file" > "$WORK/remote.jsonl" ||
    { kill -9 $pid; fail "uvmctl --node run exited $?"; }
  kill -TERM $pid
  wait $pid || fail "uvmd exited $? on SIGTERM"
  local mask='s/"TotalRuntimeNS":[0-9]*/"TotalRuntimeNS":N/g; s/"pid":[0-9]*/"pid":N/g; s/"op":"dump_stacks","ok":true,"result":".*"}$/"op":"dump_stacks","ok":true,"result":S}/; s/[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}/GUID/g'
  diff <(sed "$mask" "$OUT") <(sed "$mask" "$WORK/remote.jsonl") >&2 ||
    fail "the node's output differs from the embedded runner's"
  echo "$file" >> "$UVM_E2E_DIFF_LOG"
}
