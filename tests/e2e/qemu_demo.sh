# `uvmctl demo --backend qemu`: one real VM boots with a progress display,
# gets a VHDX scratch and a read-only layer, and a guest process reads the
# layer and writes to the scratch, whose file is then read on the host.
# The guest agent's log lines come over the VM's "log" port and are
# re-logged by the engine with the VM id and the guest's level.
source "$(dirname "$0")/lib.bash"
qemu_boot_files
"$UVMCTL" --log-level info --log-format json demo --backend qemu --json > "$WORK/demo.out" 2> "$WORK/demo.err" ||
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
"$PY" - "$WORK/demo.err" <<'PY' || fail "no guest log line re-logged: $(tail -20 "$WORK/demo.err")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
guest = [l for l in lines if l.get("msg") == "bridge protocol negotiated"]
assert guest, "no guest line"
assert all(l["vm_id"] == l["uvm-id"] == "qemu-demo" and l["level"] == "info" and l["vm.time"]
           for l in guest), guest
PY
echo "qemu_demo: ok"
