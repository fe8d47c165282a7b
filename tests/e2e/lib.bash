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
