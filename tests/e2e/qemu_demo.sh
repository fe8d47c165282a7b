# `uvmctl demo --backend qemu`: one real VM boots with a progress display,
# gets a VHDX scratch and a read-only layer, and a guest process reads the
# layer and writes to the scratch, whose file is then read on the host.
source "$(dirname "$0")/lib.bash"
qemu_boot_files
"$UVMCTL" demo --backend qemu --json > "$WORK/demo.out" 2> "$WORK/demo.err" ||
  fail "demo failed: $(cat "$WORK/demo.out" "$WORK/demo.err")"
grep -q "booting .* s" "$WORK/demo.out" || fail "no boot progress"
grep -q "^hello from a read-only layer$" "$WORK/demo.out" || fail "the layer was not read"
grep -q "on the host, in the scratch VHDX: written in the guest" "$WORK/demo.out" ||
  fail "the guest's write is not on the host: $(cat "$WORK/demo.out")"
tail -1 "$WORK/demo.out" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] and d["timings_ms"]["boot to ready (create to the guest agent'"'"'s answer)"] > 0, d
' || fail "demo summary"
echo "qemu_demo: ok"
